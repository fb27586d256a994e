"""The functional core: plain Python that never imports frappe.

Every module here takes its configuration as arguments and returns dataclasses, so it can be
tested with plain pytest against real servers on loopback, and reused by the Frappe shell.
"""
