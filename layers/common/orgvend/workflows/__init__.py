"""The workflows as their callers see them (the API, the event door, the reactions): start, describe, list, retry."""
