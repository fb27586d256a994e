// The Message Center desk page (page/message_center/message_center.js loads this bundle).
import { InboxPage } from "./message_center/inbox_page";

frappe.provide("message_center");
message_center.InboxPage = InboxPage;
