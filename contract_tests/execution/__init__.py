"""How a run sends: the runner, the HTTP target with budgets and rate limits, the scenario drivers."""
