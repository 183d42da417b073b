"""The embedded AWS: moto's server with orgvend's template deployed in it.

``make run`` starts it in the foreground; the end-to-end tests start the same
thing in-process. Nothing here is part of what ``sam deploy`` ships.
"""
