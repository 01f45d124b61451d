// Every resource limit graft puts on what it reads, in one table. Inputs are
// hostile (docs/robustness.md): a reader that recurses per nesting level, an
// expansion that can double per line, or a read that never ends would let a
// small file crash or stall the process. Each limit is far above anything a
// real program or rule file needs, and each error that reports one names
// the constant, so a user who hits it knows what to raise.
//
//   constant                   value    why
//   kMaxRuleNestingDepth       256      rule parser and alias expansion
//                                       recurse per level (`relu(` x 10^4
//                                       overflowed the stack)
//   kMaxExpandedPatternNodes   10000    aliases using the previous one twice
//                                       grow 2^n (27 lines: 5 GB)
//   kMaxIncludeDepth           64       the rule loader recurses per include
//   kMaxJsonNestingDepth       512      nlohmann-json copies and dumps
//                                       recursively; exir programs nest ~10
//   kMaxRuleFileBytes          16 MiB   rule files are kilobytes;
//                                       `include "/dev/zero"` read forever
//   kMaxInputFileBytes         4 GiB    graft-opt's input (graph, exir JSON
//                                       or zip, TorchScript); raise with
//                                       --max-input-bytes
//   kMaxZipEntries             1024     executorch.exir.save writes 5
//   kMaxZipTotalBytes          4 GiB    the sum of stored entry sizes (ZIP32
//                                       entries are under 4 GiB each)
#ifndef GRAFT_IR_LIMITS_H_
#define GRAFT_IR_LIMITS_H_

#include <cstdint>

namespace graft {

// Levels of nesting in a rule file: call arguments, groups and where-clause
// expressions (a chain `a + b + c` nests one level per operator); also the
// depth of a pattern after alias expansion and of nested alias uses.
inline constexpr int kMaxRuleNestingDepth = 256;

// Pattern nodes one rule may expand to through aliases (both sides
// together, a node reached through a parameter used twice counted twice).
inline constexpr int64_t kMaxExpandedPatternNodes = 10000;

// Rule files including rule files including ... (a chain, not a count).
inline constexpr int kMaxIncludeDepth = 64;

// Levels of [ and { in an exir JSON document (the outermost object is 1).
inline constexpr int kMaxJsonNestingDepth = 512;

// Bytes in one rule file (each included file counts on its own).
inline constexpr int64_t kMaxRuleFileBytes = int64_t{16} << 20;

// Bytes graft-opt reads as its input, from a file or standard input.
inline constexpr int64_t kMaxInputFileBytes = int64_t{4} << 30;

// Entries in the central directory of an exir zip.
inline constexpr int kMaxZipEntries = 1024;

// Sum of the (stored, uncompressed) sizes of an exir zip's entries.
inline constexpr int64_t kMaxZipTotalBytes = int64_t{4} << 30;

}  // namespace graft

#endif  // GRAFT_IR_LIMITS_H_
