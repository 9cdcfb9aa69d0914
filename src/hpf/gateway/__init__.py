"""The gateway: every call of every channel is a catalogued service invoked through here."""
