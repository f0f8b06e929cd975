"""The validating proxy: forwards live traffic to an upstream and judges it with the contract checks.

It is the one package that needs both the fake (forwarding, normalisation) and the contract suite
(checks); it sits on top and nothing imports it."""
