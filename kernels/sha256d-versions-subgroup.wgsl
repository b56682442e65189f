// sha256d-versions-subgroup.wgsl — the version source of kernels/sha256d-scan.wgsl (which
// follows this file in the module, see its header) for devices with the `subgroups` feature.
// The lanes of a subgroup form groups of VERSIONS consecutive lanes (the host builds this
// source only for a power of two no larger than the adapter's smallest subgroup that divides
// the workgroup size, so every group is whole and inside one subgroup); lane i of a group loads
// version i's entry once, and in iteration v it hashes version (i + v) mod VERSIONS with that
// entry shuffled over from the lane holding it.
// Every lane hashes every version once, and no entry is loaded with an index that differs per
// iteration (see the kernel's header for what that costs on lavapipe).
enable subgroups;

struct VersionLane {
  own: VersionParams, // the entry of version `slot`
  slot: u32,          // this lane's place in its group
  group: u32,         // the subgroup lane of the group's first
}

// The version a lane hashes in iteration v of the version loop.
fn laneVersionIndex(lane: VersionLane, v: u32) -> u32 {
  return (lane.slot + v) % VERSIONS;
}

// The entry of version `index`, from the lane of this group that holds it. All lanes take part
// in every shuffle: the kernel's loops run the same iterations in every lane.
fn laneVersionParams(lane: VersionLane, index: u32) -> VersionParams {
  let holder = lane.group + index;
  return VersionParams(
    subgroupShuffle(lane.own.midstate0, holder),
    subgroupShuffle(lane.own.midstate1, holder),
    subgroupShuffle(lane.own.state2a, holder),
    subgroupShuffle(lane.own.state2b, holder),
  );
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scanNonces(
  @builtin(global_invocation_id) globalId: vec3<u32>,
  @builtin(num_workgroups) workgroups: vec3<u32>,
  @builtin(subgroup_invocation_id) subgroupLane: u32,
) {
  let slot = subgroupLane % VERSIONS;
  let lane = VersionLane(params.versions[slot], slot, subgroupLane - slot);
  scanInvocation(invocationIndex(globalId, workgroups), lane);
}
