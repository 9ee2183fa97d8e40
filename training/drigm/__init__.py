"""DrIGM: distributionally robust value factorisation (robust VDN, QMIX and QTRAN) for robot teams.

Shared pure pieces: :mod:`mixers`, :mod:`robust` (robust TD targets), :mod:`buffer`
(episode replay), :mod:`schedules` (ε), :mod:`agent` (DRQN utility network). The one
learner is :mod:`learner`; :mod:`train` runs it on a team environment and exports the
per-agent utility network through the policy-artifact contract.
"""
