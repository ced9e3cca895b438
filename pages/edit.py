"""Edit: analysts add, change and retire events, places and deployment areas in the store."""

from ui import auth, edit, session

session.require_entry_script()
auth.require_editor()  # anonymous visitors are asked to sign in, viewers are turned away
edit.render_page()
