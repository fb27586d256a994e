"""`before_tests` hook: a bare test site gets what ERPNext's setup wizard makes (a Company, fiscal
year, Opportunity Types, Sales Stages...), as ERPNext's own suite does. A set-up site is left alone."""

import frappe
from frappe.utils import now_datetime


def before_tests():
	frappe.clear_cache()
	if frappe.db.a_row_exists("Company"):
		return
	from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

	year = now_datetime().year
	setup_complete(
		{
			"currency": "USD",
			"full_name": "Test User",
			"company_name": "MC Test Company",
			"company_abbr": "MCT",
			"timezone": "UTC",
			"country": "United States",
			"fy_start_date": f"{year}-01-01",
			"fy_end_date": f"{year}-12-31",
			"language": "english",
			"company_tagline": "Testing",
			"email": "mc-test-admin@example.com",
			"password": "test",
			"chart_of_accounts": "Standard",
		}
	)
	frappe.db.commit()
