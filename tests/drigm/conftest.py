"""DrIGM tests share two cores with everyone else: one torch thread each."""

import torch

torch.set_num_threads(1)
