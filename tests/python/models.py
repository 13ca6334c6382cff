"""Small models the tests and the demo share."""
import torch
import torch.nn as nn


class MLPBlock(nn.Module):
    """Linear -> GELU -> Linear, residual, LayerNorm (the transformer MLP block)."""

    def __init__(self, d: int = 1024, hidden: int = 4096):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        return self.norm(x + self.fc2(nn.functional.gelu(self.fc1(x))))


def twin(model_cls, *args, seed=0):
    """Two identical instances: one for eager, one to compile."""
    torch.manual_seed(seed)
    a = model_cls(*args)
    b = model_cls(*args)
    b.load_state_dict(a.state_dict())
    return a, b


class BasicBlock(nn.Module):
    def __init__(self, channels: int, stride: int = 1):
        super().__init__()
        out = channels * stride
        self.conv1 = nn.Conv2d(channels, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.shortcut = nn.Sequential()
        if stride != 1:
            self.shortcut = nn.Sequential(nn.Conv2d(channels, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.shortcut(x))


class SmallResNet(nn.Module):
    """A ResNet-style conv net: stem, residual blocks with BatchNorm, pooling, classifier."""

    def __init__(self, width: int = 8, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.blocks = nn.Sequential(BasicBlock(width), BasicBlock(width, 2))
        self.head = nn.Linear(width * 2, classes)

    def forward(self, x):
        x = self.blocks(self.pool(self.stem(x)))
        return self.head(nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))


def gpt2_config(layers: int = 2):
    from transformers import GPT2Config
    cfg = GPT2Config(n_layer=layers, n_head=4, n_embd=64, vocab_size=256, n_positions=64,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                     bos_token_id=0, eos_token_id=0)
    cfg._attn_implementation = "eager"  # matmul + softmax attention, which graphopt fuses
    return cfg


def gpt2(seed: int = 0, layers: int = 2):
    from transformers import GPT2LMHeadModel
    torch.manual_seed(seed)
    return GPT2LMHeadModel(gpt2_config(layers))
