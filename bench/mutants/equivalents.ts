// equivalents -- why some mutants survive every model and every check: no
// crash, of the workload or of a recovery, can leave a state that recovery
// gets wrong, so they are left out of the detection rate. Written by reading each survivor against the sources; bugs.ts checks
// every claim against the run (a listed mutant that some model kills is
// reported as a wrong claim and counted like any other mutant; a survivor of
// every model that is not listed is reported as unexplained).
//
// Facts the reasons rely on (targets/alloc/alloc.c, alloc.h):
//   - a clump header is one 64-byte line: size|state and the three pending
//     (offset, value) slots; a store to it makes a new version of that line,
//     and any version that holds a later store also holds every earlier
//     store to the same line (program order within a line);
//   - pending slots only matter to recovery in an ACTIVATING or FREEING
//     clump; for a RESERVED clump (freed) and an ACTIVE or FREE one (slots
//     dropped) they are ignored;
//   - pmfit crashes the traced workload regions, and with --depth 2 (the
//     bench's depth-2 column) the recovery too: alloc_recover runs between
//     pmfit_recovery_begin/_end (alloc_open), and each crash image of a
//     recovery is recovered again; a reason must hold for those crashes as
//     well. The untraced setup is never crashed (a PM file must exist when
//     the first region begins, harness/record/record.ts).

/** EQUIVALENTS -- mutant name → why it is equivalent. */
export const EQUIVALENTS: Record<string, string> = {
  // (a) persist call sites removed
  'alloc.c:clear_pending:remove-persist':
    'every clear_pending in a traced path is followed by set_size_state on the same clump, whose persist flushes the same header ' +
    'line; until then the versions of the line only lack clears of slots whose assignments are already durable (transition) or ' +
    'were already zero (reserve)',
  'alloc.c:add_pending:remove-persist#1':
    "the persist of the slot's offset right after it flushes the same header line; before that the offset is still 0, so the slot " +
    'is not pending',
  'alloc.c:add_pending:remove-persist#2':
    'the next persist of the clump header (the next add_pending, or set_size_state to ACTIVATING/FREEING in transition) flushes ' +
    'the same line; until the state store, which follows in that line, the clump is RESERVED or ACTIVE and its slots are ignored',

  // (b) swapped steps
  'alloc.c:alloc_recover:swap-steps#2':
    'recovery (RESERVED clump) sets FREE before clearing the slots: the recovered image is the same, and a crash in between would ' +
    'leave a FREE clump whose slots the next recovery drops',
  'alloc.c:alloc_recover:swap-steps#4':
    'recovery (ACTIVATING clump) sets ACTIVE before clearing the slots, after redoing them: the recovered image is the same, and a ' +
    'crash in between would leave an ACTIVE clump whose slots the next recovery drops',
  'alloc.c:alloc_recover:swap-steps#6':
    'recovery (FREEING clump) sets FREE before clearing the slots, after redoing them: the recovered image is the same, and a ' +
    'crash in between would leave a FREE clump whose slots the next recovery drops',
  'alloc.c:alloc_reserve:swap-steps#1':
    'the clump being reserved is FREE, so its slots are already 0: clearing them before writing the split-off clump stores zeros ' +
    'over zeros',
  'alloc.c:alloc_reserve:swap-steps#2':
    "the clump's slots are already 0 (it was FREE), so clearing them after setting RESERVED changes nothing; a crash in between " +
    'leaves a RESERVED clump, which recovery frees either way',
  'alloc.c:add_pending:swap-steps':
    'offset before value: a slot with an offset and no value yet can only be seen while the clump is RESERVED (onactive) or ' +
    'ACTIVE (onfree), where recovery ignores slots; the state change that makes them count comes after both are durable',
  'alloc.c:transition:swap-steps#4':
    'the final state (ACTIVE or FREE) is set before the slots are cleared, after the assignments are durable: a crash in between ' +
    'leaves an ACTIVE or FREE clump whose slots recovery drops',
  'alloc.c:alloc_free:swap-steps#2':
    'coalesce_next merges every FREE clump that follows, so coalescing the free previous clump first absorbs the freed clump and ' +
    'its free successor (one persisted size store each); the later coalesce_next of the freed clump only rewrites its stale header, ' +
    'now data of the merged FREE clump, which nothing reads',

  // hand-written patches
  'patch:recovery-free-unpersisted':
    'recovery stores FREE into a RESERVED clump without persisting it: a crash during that recovery (or after it) can lose ' +
    'the store, which leaves the clump RESERVED, and the next recovery frees it again; freeing a reserved clump is ' +
    'idempotent, and nothing else recovery does depends on the lost store (a later coalescing of that clump persists its ' +
    'header line, FREE included)',

  // (c) fences removed (clwb mode)
  'alloc.c:clear_pending:remove-fence':
    'the set_size_state that follows stores to the same header line and fences it; its state store comes after the clears in that ' +
    'line, so no version has the new state without them',
  'alloc.c:alloc_reserve:remove-fence':
    "the clear_pending that follows fences before the reserved clump's size shrinks; until that store the split-off header lies " +
    "inside the FREE clump's data and is not part of the chain",
  'alloc.c:add_pending:remove-fence#1':
    "the slot's offset, stored next in the same line, is persisted and fenced right after; until it is non-zero the slot is not " +
    'pending',
  'alloc.c:add_pending:remove-fence#2':
    'the next fence (the next add_pending, or set_size_state in transition) comes before the state store that makes the slots ' +
    'count, and that store is in the same line after the offset',
};
