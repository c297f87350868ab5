// Orthonormal DCT-II of every chunk and its inverse, as two basis matmuls (gauntlet-spec §5.3,
// Templar v0.2.88 `TransformDCT.encode/decode`); CPU twin src/core/compress/dct.ts `dctChunks`,
// `idctChunks`: forward X = D_hᵀ · x · D_w, inverse x = D_h · X · D_wᵀ, D_n[i][k] = c_k cos(π(2i+1)k/2n).
// Input and output are chunked views [chunkCount][h·w]. The host dispatches it twice: stage 0 along
// rows (x → T, into `scratch`), stage 1 along columns (T → out). The bases come from the CPU's
// float64 `dctMatrix`, rounded to float32; sums run in float32 in a fixed order, so the result is
// deterministic on one GPU and within a few float32 ulps of the CPU's float64 sums (the 'dct-sign'
// codec keeps only signs of the aggregate; src/gpu/outer-step-sign.ts states the tolerance this gives).

struct DctUniforms {
  h: u32,
  w: u32,
  count: u32,       // chunkCount · h · w
  inverse: u32,     // 0 forward, 1 inverse
  stage: u32,       // 0 rows, 1 columns
  basis_h: u32,     // offset of D_h in `basis`
  basis_w: u32,     // offset of D_w in `basis`
  _pad: u32,
}

@group(0) @binding(0) var<uniform> u: DctUniforms;
@group(0) @binding(1) var<storage, read> basis: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let totalk = u.h * u.w;
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < u.count; i += stride) {
    let base = (i / totalk) * totalk;
    let row = (i % totalk) / u.w;
    let col = i % u.w;
    var s = 0.0;
    if (u.stage == 0u) {
      // forward T[r][l] = Σ_c x[r][c]·D_w[c][l]; inverse T[r][l] = Σ_c X[r][c]·D_w[l][c]
      for (var c = 0u; c < u.w; c++) {
        var d = basis[u.basis_w + c * u.w + col];
        if (u.inverse == 1u) { d = basis[u.basis_w + col * u.w + c]; }
        s += src[base + row * u.w + c] * d;
      }
    } else {
      // forward X[k][l] = Σ_r D_h[r][k]·T[r][l]; inverse x[k][l] = Σ_r D_h[k][r]·T[r][l]
      for (var r = 0u; r < u.h; r++) {
        var d = basis[u.basis_h + r * u.h + row];
        if (u.inverse == 1u) { d = basis[u.basis_h + row * u.h + r]; }
        s += d * src[base + r * u.w + col];
      }
    }
    dst[i] = s;
  }
}
