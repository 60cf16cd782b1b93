"""One router per lab (and a few shared ones); app.main includes every module's `router`."""
