"""The Safe City screens: one Python class and one .kv file each."""
