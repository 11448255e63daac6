"""`warnex demo`: a realistic synthetic county (演示数据) loaded through the real
code paths: the registry loader, the HTTP APIs of the four services driven
in-process with the clock stepped back over the weeks, the event consumers
and the scheduled jobs."""
