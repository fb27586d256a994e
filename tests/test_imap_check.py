"""check_mailbox, what "Test connection" on a mail channel runs, against a real Dovecot."""

import time

from message_center.core.imap_connection import SyncErrorKind, check_mailbox
from message_center.testing.tcp_faults import SilentServer, closed_port


def test_a_good_mailbox_signs_in_and_counts_each_folder_without_touching_a_flag(mailbox):
	mailbox.seed(3, flags=("\\Flagged",))
	mailbox.create_folder("Enquiries")
	mailbox.seed(2, folder="Enquiries", tag="e")
	before = mailbox.server.flags(mailbox.user, "INBOX")
	mailbox.clear_commands()

	check = check_mailbox(mailbox.config(folders=("INBOX", "Enquiries")))
	ours = mailbox.commands()

	assert check.ok and check.error is None
	assert [(folder.folder, folder.found, folder.messages) for folder in check.folders] == [
		("INBOX", True, 3),
		("Enquiries", True, 2),
	]
	assert {"INBOX", "Enquiries"} <= set(check.server_folders)
	assert len([line for line in ours if " STATUS " in line]) == 2
	assert [line for line in ours if " SELECT " in line or " EXAMINE " in line or " FETCH " in line] == []
	assert mailbox.server.flags(mailbox.user, "INBOX") == before  # nothing marked seen


def test_a_misspelt_folder_is_named_with_what_the_server_has(mailbox):
	mailbox.create_folder("Archive")

	check = check_mailbox(mailbox.config(folders=("INBOX", "Archiv")))

	assert not check.ok and check.error_kind is SyncErrorKind.FOLDER
	assert check.error == "not found: Archiv"
	(inbox, archiv) = check.folders
	assert inbox.found and inbox.messages == 0
	assert not archiv.found and archiv.error
	assert "Archive" in check.server_folders


def test_a_wrong_password_unreachable_or_silent_server_says_which(mailbox):
	assert check_mailbox(mailbox.config(password="wrong")).error_kind is SyncErrorKind.LOGIN
	assert check_mailbox(mailbox.config(port=closed_port())).error_kind is SyncErrorKind.CONNECT
	with SilentServer() as silent:
		started = time.monotonic()
		check = check_mailbox(
			mailbox.config(host=silent.host, port=silent.port, connect_timeout=0.5, read_timeout=0.5)
		)
	assert check.error_kind is SyncErrorKind.TIMEOUT and not check.ok and check.folders == ()
	assert time.monotonic() - started < 2
