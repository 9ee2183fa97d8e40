"""The three tasks: ``warehouse`` (GMFS), ``team_push`` (DrIGM), ``safe_nav`` (RCMDP)."""
