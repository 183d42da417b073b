"""Handlers of events that orgvend reacts to (EventBridge rules in template.yaml), one verb a module."""
