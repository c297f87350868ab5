// Global gradient L2 norm over many tensors and the clipping factor derived from it, computed on
// the GPU so the inner loop never reads gradients back (gauntlet-spec §5.1, torch
// `clip_grad_norm_` in `Trainer.inner_steps`). CPU twins: src/core/grad-norm.ts `globalGradNorm`
// and src/core/adamw.ts `clipScaleForNorm`.
//
// Two entry points, one reduction:
//   partial_sums: one dispatch per gradient tensor; workgroup w writes Σ g² of its grid-stride
//                 slice to partials[base + w].
//   finalize:     one workgroup sums every partial, writes clip = [scale, norm], where
//                 scale = min(1, max_norm / (norm + 1e-6)), or 1 when max_norm ≤ 0 or norm is not finite.
// AdamW (adamw.wgsl) then reads clip[0] as its grad_scale.

const WORKGROUP_SIZE: u32 = 256u;

struct PartialUniforms {
  count: u32,   // elements in this tensor
  base: u32,    // first partial slot of this tensor
  _pad0: u32,
  _pad1: u32,
}

struct FinalUniforms {
  partial_count: u32,
  max_norm: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> pu: PartialUniforms;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

@group(0) @binding(0) var<uniform> fu: FinalUniforms;
@group(0) @binding(1) var<storage, read> all_partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> clip: array<f32>;

var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;

fn reduce_scratch(lid: u32) {
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    workgroupBarrier();
    if (lid < stride) {
      scratch[lid] = scratch[lid] + scratch[lid + stride];
    }
  }
  workgroupBarrier();
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn partial_sums(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  var sum = 0.0;
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < pu.count; i += stride) {
    let g = grad[i];
    sum += g * g;
  }
  scratch[lid.x] = sum;
  reduce_scratch(lid.x);
  if (lid.x == 0u) {
    partials[pu.base + wid.x] = scratch[0];
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn finalize(@builtin(local_invocation_id) lid: vec3<u32>) {
  var sum = 0.0;
  for (var i = lid.x; i < fu.partial_count; i += WORKGROUP_SIZE) {
    sum += all_partials[i];
  }
  scratch[lid.x] = sum;
  reduce_scratch(lid.x);
  if (lid.x == 0u) {
    let norm = sqrt(scratch[0]);
    var scale = 1.0;
    // norm == norm is false for NaN; the upper bound rejects +Inf.
    if (fu.max_norm > 0.0 && norm == norm && norm <= 3.4e38) {
      scale = min(1.0, fu.max_norm / (norm + 1e-6));
    }
    clip[0] = scale;
    clip[1] = norm;
  }
}
