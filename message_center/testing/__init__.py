"""Real servers on loopback for the test suites and benchmarks (Dovecot, a Twilio stand-in, SMTP).

Shipped inside the package so both test layers (plain pytest and `bench run-tests`) and the
benchmarks can start the same servers. Nothing here imports frappe.
"""
