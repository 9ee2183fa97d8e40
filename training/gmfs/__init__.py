"""GMFS: graphon mean-field subsampling (Anand, Hoffmann, Liaw, Wierman), tabular and neural.

* :mod:`.models`   generative models P(s' | s, a, g), r(s, a, g) (the paper's analytic warehouse, synthetic, PyBullet)
* :mod:`.tabular`  Alg. 1 (offline value iteration on Q[s, a, z]) and Alg. 2 (decentralised execution)
* :mod:`.study`    the κ sweep of ``robocoord gmfs study``
* :mod:`.neural`   the Q-network variant trained by fitted Q-iteration, exported as an ONNX artifact
"""
