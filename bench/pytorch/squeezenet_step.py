"""PyTorch's SqueezeNet-for-CIFAR training step, timed for `squeeze bench`.

The same network as packages/squeezenet/src/model/squeezenet.ts: conv1 96 2x2 SAME (no bias) +
batch norm (shift only, eps 1e-3, momentum 0.1) + ReLU, max-pool 2/2, fire2..9 (squeeze 1x1,
expand 1x1 and 3x3, each conv + BN + ReLU, concatenated), max-pools after fire4 and fire8, average
pool 4x4, conv10 1x1 with bias; softmax cross-entropy; Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8).
channels_last, 2 threads, batch 32 by default.

Protocol (one line per request on stdin, one line per answer on stdout) so that the bench can
take turns with its own steps in one run:
  params -> the number of trainable scalars
  step   -> the wall-clock ms of one training step (forward, loss, backward, Adam)
  quit   -> exits
`--params` prints the parameter count and exits.
"""
import argparse
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

FIRE_SIZES = [(16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256)]
POOL_AFTER_FIRE = {4, 8}
BN_EPS = 1e-3
BN_MOMENTUM = 0.1


def shift_batch_norm(channels):
    """Batch norm with a learned shift only (the sample's scale=False): the scale stays 1, untrained."""
    bn = nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)
    bn.weight.requires_grad_(False)
    return bn


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)
        self.bn = shift_batch_norm(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Fire(nn.Module):
    def __init__(self, cin, s, e):
        super().__init__()
        self.squeeze = ConvBnRelu(cin, s, 1)
        self.expand1x1 = ConvBnRelu(s, e, 1)
        self.expand3x3 = ConvBnRelu(s, e, 3)

    def forward(self, x):
        s = self.squeeze(x)
        return torch.cat([self.expand1x1(s), self.expand3x3(s)], 1)


class SqueezeNetCifar(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        # TensorFlow's SAME padding for a 2x2 kernel pads one row and column after, none before.
        self.pad1 = nn.ZeroPad2d((0, 1, 0, 1))
        self.conv1 = nn.Conv2d(3, 96, 2, bias=False)
        self.bn1 = shift_batch_norm(96)
        layers = []
        c = 96
        for i, (s, e) in enumerate(FIRE_SIZES):
            layers.append(Fire(c, s, e))
            if i + 2 in POOL_AFTER_FIRE:
                layers.append(nn.MaxPool2d(2, 2))
            c = 2 * e
        self.fires = nn.Sequential(*layers)
        self.conv10 = nn.Conv2d(c, classes, 1)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(self.pad1(x)))), 2, 2)
        h = self.fires(h)
        h = F.avg_pool2d(h, 4, 4)
        return self.conv10(h).flatten(1)


def trainable_scalars(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--batch_size', type=int, default=32)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--params', action='store_true', help='print the trainable parameter count and exit')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1337)
    model = SqueezeNetCifar().to(memory_format=torch.channels_last)
    if args.params:
        print(trainable_scalars(model))
        return
    model.train()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    x = torch.rand(args.batch_size, 3, 32, 32).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (args.batch_size,))

    def step():
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
        return (time.perf_counter() - t0) * 1000

    print(f'ready {torch.__version__}', flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == 'step':
            print(f'{step():.3f}', flush=True)
        elif cmd == 'params':
            print(trainable_scalars(model), flush=True)
        elif cmd == 'quit':
            break
        else:
            print(f'error: unknown request {cmd!r}', flush=True)


if __name__ == '__main__':
    main()
