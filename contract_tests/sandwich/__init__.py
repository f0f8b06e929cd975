"""Sandwich mode: the endpoint under test forwards to our fake, so the suite knows both ends.

``upstream`` reads the fake's journal over HTTP, ``probes`` are the fixed requests, ``session`` holds
what is known per exchange, ``compare`` finds differences. Sending lives in ``execution.relay``, the
checks in ``checks.relay`` and ``checks.security``, the scorecard in ``reporting.scorecard``.
"""
