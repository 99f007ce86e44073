"""SAM's mask decoder, per prompt, with what depends only on the image computed once.

transformers' ``SamMaskDecoder`` / ``EdgeTamMaskDecoder`` run their whole two-way transformer for every
prompt: the image tokens (with the no-mask embedding added), their positional embedding and the first
layer's projections of them are recomputed each time, the 64 × 64 image tokens travel as strided views
(each sum and layer norm on them copies or crawls), and the two transposed convolutions that upscale
them take a slow path on CPUs. On a 2-core CPU that is ~100 ms a click, the whole prompt-to-preview
budget. :class:`PreparedImage` does the same sums with the decoder's own modules and weights, but keeps
the image-only part per image (contiguous, token-major) and upscales with matrix products (a 2 × 2
stride-2 transposed convolution is one). Written by hand because no library offers a decoder split at
the image/prompt boundary; ``tests/inference/test_sam_decoder.py`` checks it against transformers'
forward for SAM and EdgeTAM, points, boxes and batches of prompts.
"""

from __future__ import annotations

import torch
from torch.nn import functional

Tensor = torch.Tensor


class PreparedImage:
    """One image's embedding made ready for a model's mask decoder: ``decode`` gives low-resolution mask
    logits and predicted IoUs for prompt embeddings, as the model's own forward would."""

    def __init__(self, model, features: Tensor, high_res: list[Tensor]) -> None:
        """``features``: the (1, C, g, g) embedding; ``high_res``: the SAM 2 family's finer maps (finest
        first), empty for SAM."""
        decoder = model.mask_decoder
        self.decoder = decoder
        self.first_token = 1 if hasattr(decoder, "obj_score_token") else 0  # SAM 2: the object-score token first
        dense = model.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1)
        self.grid = features.shape[-1]
        self.keys = _tokens(features + dense)  # (1, N, C)
        self.key_pe = _tokens(model.get_image_wide_positional_embeddings())
        keyed = self.keys + self.key_pe
        first = decoder.transformer.layers[0]
        # The first layer's projections of the image tokens: the same for every prompt.
        self.first_key = first.cross_attn_token_to_image.k_proj(keyed)
        self.first_value = first.cross_attn_token_to_image.v_proj(self.keys)
        self.first_image_query = first.cross_attn_image_to_token.q_proj(keyed)
        # The upscaling works in "cell order": a transposed 2 × 2 stride-2 convolution sends each pixel to
        # its own 2 × 2 cell, and everything after it up to the masks is per pixel, so the pixels stay in
        # the order the matrix products give them (image pixel, then its cell's row and column, per step)
        # and only the final masks are put back in image order. SAM 2's finer maps are arranged in that
        # order once per image, with each step's bias added.
        steps = [_as_matrix(decoder.upscale_conv1), _as_matrix(decoder.upscale_conv2)]
        self.upscale = [weight for weight, _ in steps]
        self.step_bias = [bias.repeat(4) for _, bias in steps]  # per cell: rows, columns, channels
        if high_res:  # (1, pixels before the step, its 2 × 2 cell's values): the product's own layout
            self.step_bias = [(_cell_order(level, step + 1) + bias).reshape(1, level[0, 0].numel() // 4, -1)
                              for step, (level, (_, bias)) in enumerate(zip(reversed(high_res), steps, strict=True))]

    def decode(self, sparse: Tensor, multimask: bool) -> tuple[Tensor, Tensor]:
        """Low-resolution logits (P × masks × S × S) and IoUs (P × masks) for the prompt encoder's sparse
        embeddings of P prompts (1 × P × T × C)."""
        decoder = self.decoder
        prompts = sparse.shape[1]
        own = [decoder.iou_token.weight, decoder.mask_tokens.weight]
        if self.first_token:
            own.insert(0, decoder.obj_score_token.weight)
        output_tokens = torch.cat(own).expand(prompts, -1, -1)
        point_pe = torch.cat((output_tokens, sparse[0].to(output_tokens.dtype)), dim=1)  # (P, T, C)
        queries, keys = self._transformer(point_pe)
        first = self.first_token
        iou_token, mask_tokens = queries[:, first], queries[:, first + 1:first + 1 + decoder.num_mask_tokens]
        upscaled = self._upscale(keys)  # (P, 4g·4g, C/8)
        hyper = torch.stack([mlp(mask_tokens[:, i]) for i, mlp in enumerate(decoder.output_hypernetworks_mlps)], 1)
        masks = _image_order(hyper @ upscaled.transpose(1, 2), self.grid)
        iou = decoder.iou_prediction_head(iou_token)
        if multimask:
            return masks[:, 1:], iou[:, 1:]
        if getattr(decoder, "dynamic_multimask_via_stability", False):  # SAM 2's choice of its single mask
            masks, iou = decoder._dynamic_multimask_via_stability(masks[None], iou[None])
            return masks[0], iou[0]
        return masks[:, :1], iou[:, :1]

    def _transformer(self, point_pe: Tensor) -> tuple[Tensor, Tensor]:
        """The two-way transformer: tokens (P, T, C) and image tokens (P, N, C) after it."""
        transformer = self.decoder.transformer
        prompts = point_pe.shape[0]
        queries, keys = point_pe, self.keys
        for index, layer in enumerate(transformer.layers):
            if index == 0:  # skip_first_layer_pe: the tokens attend to themselves without the embedding added
                queries = layer.layer_norm1(_attend(layer.self_attn, queries, queries, queries))
                attended = _attend(layer.cross_attn_token_to_image, queries + point_pe,
                                   key=self.first_key.expand(prompts, -1, -1),
                                   value=self.first_value.expand(prompts, -1, -1), projected=(False, True, True))
            else:
                query = queries + point_pe
                queries = layer.layer_norm1(queries + _attend(layer.self_attn, query, query, queries))
                keyed = keys + self.key_pe  # both cross attentions of the layer take it
                attended = _attend(layer.cross_attn_token_to_image, queries + point_pe, keyed, keys)
            queries = layer.layer_norm2(queries + attended)
            queries = layer.layer_norm3(queries + layer.mlp(queries))
            query = queries + point_pe
            if index == 0:
                image_query = self.first_image_query.expand(prompts, -1, -1)
                out = _attend(layer.cross_attn_image_to_token, image_query, query, queries, projected=(True, False, False))
            else:
                out = _attend(layer.cross_attn_image_to_token, keyed, query, queries)
            keys = layer.layer_norm4(keys + out)
        final = _attend(transformer.final_attn_token_to_image, queries + point_pe, keys + self.key_pe, keys)
        return transformer.layer_norm_final_attn(queries + final), keys

    def _upscale(self, keys: Tensor) -> Tensor:
        """The upscaling of the image tokens (P, g·g, C) to (P, 4g·4g, C/8) in cell order, channels last."""
        decoder, x = self.decoder, keys
        for step, (weight, bias) in enumerate(zip(self.upscale, self.step_bias, strict=True)):
            # each pixel's 2 × 2 cell, the bias (and SAM 2's finer map) added by the product itself
            x = torch.baddbmm(bias, x, weight.expand(x.shape[0], -1, -1)).reshape(x.shape[0], -1, weight.shape[1] // 4)
            if step == 0:
                norm = decoder.upscale_layer_norm
                x = functional.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
            x = decoder.activation(x)
        return x


def _tokens(image: Tensor) -> Tensor:
    """(1, C, h, w) → contiguous (1, h·w, C)."""
    return image.flatten(2).transpose(1, 2).contiguous()


def _as_matrix(conv) -> tuple[Tensor, Tensor]:
    """A 2 × 2, stride-2 transposed convolution's weight as a (C_in, 2·2·C_out) matrix (the output cell's
    rows, columns, then channels) and its bias."""
    c_in, c_out, kh, kw = conv.weight.shape
    if (kh, kw) != (2, 2) or tuple(conv.stride) != (2, 2) or any(conv.padding) or any(conv.output_padding):
        raise ValueError("the mask decoder's upscaling is not SAM's 2 × 2, stride-2 transposed convolution")
    return conv.weight.permute(0, 2, 3, 1).reshape(c_in, kh * kw * c_out), conv.bias


def _cell_order(level: Tensor, steps: int) -> Tensor:
    """A (1, C, g·2^steps, g·2^steps) map as (1, pixels, C) in the cell order of ``steps`` upscalings."""
    _, channels, side, _ = level.shape
    grid = side >> steps
    # rows split as (grid row, then each step's cell row), the same for columns
    x = level.reshape(1, channels, grid, *[2] * steps, grid, *[2] * steps)
    rows, cols = list(range(2, 3 + steps)), list(range(3 + steps, 4 + 2 * steps))
    order = [0, rows[0], cols[0]] + [axis for pair in zip(rows[1:], cols[1:], strict=True) for axis in pair] + [1]
    return x.permute(order).reshape(1, -1, channels).contiguous()


def _image_order(masks: Tensor, grid: int) -> Tensor:
    """Masks (P, M, pixels) in the cell order of two upscalings → (P, M, 4g, 4g) in image order."""
    prompts, count = masks.shape[:2]
    cells = masks.reshape(prompts, count, grid, grid, 2, 2, 2, 2)  # i, j, (a, b) of step 1, (a, b) of step 2
    return cells.permute(0, 1, 2, 4, 6, 3, 5, 7).reshape(prompts, count, 4 * grid, 4 * grid)


def _attend(attention, query: Tensor, key: Tensor, value: Tensor,
            projected: tuple[bool, bool, bool] = (False, False, False)) -> Tensor:
    """SAM's attention module on (P, L, C) inputs; ``projected`` marks inputs already projected. One side
    is always a handful of prompt tokens, the other the image's 4,096: plain matrix products, with the
    softmax taken along the long side's contiguous axis (the fused kernels are several times slower for
    such shapes on a CPU, and so is a softmax over a handful of keys per row)."""
    if query.shape[-2] < key.shape[-2] and not projected[1] and not projected[2]:
        return _few_queries(attention, query, key, value)
    heads = attention.num_attention_heads
    projections = (attention.q_proj, attention.k_proj, attention.v_proj)
    q, k, v = (x if done else proj(x) for x, done, proj in zip((query, key, value), projected, projections, strict=True))
    q, k, v = (t.unflatten(-1, (heads, -1)).transpose(1, 2) for t in (q, k, v))  # (P, heads, L, d)
    if q.shape[-2] > k.shape[-2]:  # the image attending to the tokens: weights laid out keys × queries
        out = torch.softmax(k @ (q * attention.scaling).transpose(-1, -2), dim=-2).transpose(-1, -2) @ v
    else:
        out = torch.softmax((q * attention.scaling) @ k.transpose(-1, -2), dim=-1) @ v
    return _output(attention, out.transpose(1, 2).flatten(2))


def _few_queries(attention, query: Tensor, key: Tensor, value: Tensor) -> Tensor:
    """A few tokens attending to the image's 4,096 without projecting the 4,096: each head's query is taken
    back through the key projection instead (q · (W x + b) = (Wᵀq) · x + q · b, and the softmax ignores
    the last term, the same for every key), and the weighted sum of the raw values goes through the value
    projection after (the weights sum to 1, so the bias passes unchanged): half the products."""
    heads = attention.num_attention_heads
    q = attention.q_proj(query) * attention.scaling  # (P, T, I)
    prompts, tokens, inner = q.shape
    weight_k = attention.k_proj.weight.view(heads, inner // heads, -1)  # (heads, d, C)
    q_in = torch.einsum("pthd,hdc->phtc", q.view(prompts, tokens, heads, -1), weight_k).flatten(1, 2)
    weights = torch.softmax(q_in @ key.transpose(-1, -2), dim=-1)  # (P, heads·T, N)
    summed = (weights @ value).view(prompts, heads, tokens, -1)  # (P, heads, T, C)
    weight_v = attention.v_proj.weight.view(heads, inner // heads, -1)
    out = torch.einsum("phtc,hdc->pthd", summed, weight_v).reshape(prompts, tokens, inner) + attention.v_proj.bias
    return _output(attention, out)


def _output(attention, out: Tensor) -> Tensor:
    return (attention.o_proj if hasattr(attention, "o_proj") else attention.out_proj)(out)
