"""The testing instrument: scenarios and rules, latency, the request journal, defects, record/replay."""
