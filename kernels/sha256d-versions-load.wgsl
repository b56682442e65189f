// sha256d-versions-load.wgsl — the version source of kernels/sha256d-scan.wgsl (which follows
// this file in the module, see its header) for any WebGPU device: in iteration v every lane
// hashes version v, reading its entry from the uniform (an index the same in every lane).

// Nothing to hold: the entries stay in the uniform.
struct VersionLane {
  unused: u32,
}

// The version a lane hashes in iteration v of the version loop.
fn laneVersionIndex(lane: VersionLane, v: u32) -> u32 {
  return v;
}

// The entry of version `index`.
fn laneVersionParams(lane: VersionLane, index: u32) -> VersionParams {
  return params.versions[index];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scanNonces(
  @builtin(global_invocation_id) globalId: vec3<u32>,
  @builtin(num_workgroups) workgroups: vec3<u32>,
) {
  scanInvocation(invocationIndex(globalId, workgroups), VersionLane(0u));
}
