"""Edit: analysts add, change and retire events, places and deployment areas in the store."""

from ui import edit, session

session.require_entry_script()
edit.render_page()
