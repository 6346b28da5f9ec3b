"""A tiny random BERT and a synthetic corpus, for tests (no download).

`make_tiny_model(out)` writes config.json + model.safetensors + a WordPiece tokenizer
(tokenizer.json, tokenizer_config.json, vocab.txt) into `out`. `synthetic_corpus()` makes short
texts whose class is given by its topic words, so even a tiny model learns them quickly.
"""

from __future__ import annotations

import random
from pathlib import Path

DEFAULT_LABELS = ("billing", "shipping", "technical")
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
COMMON = ("the my a an is was it this please help today again now very so and or but with for to of in on".split())


def topic_words(labels: tuple[str, ...] | list[str], per_class: int = 40) -> dict[str, list[str]]:
    """Distinct, deterministic words per class (e.g. 'billing' → billinga, billingb …)."""
    out: dict[str, list[str]] = {}
    for label in labels:
        stem = "".join(ch for ch in label.lower() if ch.isalnum()) or "class"
        out[label] = [f"{stem}{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(per_class)]
    return out


def vocabulary(labels) -> list[str]:
    words = [w for ws in topic_words(labels).values() for w in ws]
    return SPECIAL + sorted(set(COMMON)) + words


def synthetic_corpus(n_per_class: int, labels=DEFAULT_LABELS, seed: int = 0, noise: float = 0.0) -> list[tuple[str, int]]:
    """`n_per_class` texts per class: 3–6 topic words of the class among common words.
    With `noise` > 0 that share of texts get a random label instead (to rig a hard set)."""
    rng = random.Random(seed)
    topics = topic_words(labels)
    rows: list[tuple[str, int]] = []
    for _ in range(n_per_class):
        for li, label in enumerate(labels):
            words = rng.sample(topics[label], rng.randint(3, 6)) + rng.sample(COMMON, rng.randint(2, 5))
            rng.shuffle(words)
            y = rng.randrange(len(labels)) if rng.random() < noise else li
            rows.append((" ".join(words), y))
    rng.shuffle(rows)
    return rows


def make_tiny_model(out: str | Path, labels=DEFAULT_LABELS, seed: int = 0, hidden: int = 32, layers: int = 4,
                    heads: int = 2, init_range: float = 0.2) -> Path:
    """`init_range` is larger than BERT's 0.02 so that the tiny random model learns the synthetic
    corpus within a few epochs."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labels = list(labels)
    vocab = vocabulary(labels)
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    tokenizer.model_max_length = 128
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=hidden * 2, max_position_embeddings=128, type_vocab_size=2,
        initializer_range=init_range,
        num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
    )
    model = BertForSequenceClassification(config)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    vocab_txt = out / "vocab.txt"
    if not vocab_txt.exists():
        vocab_txt.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return out
