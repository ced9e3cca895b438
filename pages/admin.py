"""Admin: recent sign-ins and batches, and the local accounts (admins only)."""

from ui import auth, session

session.require_entry_script()
auth.require_admin()
auth.admin_page()
