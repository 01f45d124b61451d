// The zip container `executorch.exir.save` writes around an edge program
// (serialized_exported_program.json, serialized_state_dict.pt,
// serialized_constants.pt, serialized_example_inputs.pt, version), read and
// written without a compression library: Python's zipfile stores those
// entries uncompressed, so a reader of stored entries and a writer of them
// suffice. Compressed, encrypted or ZIP64 archives are refused with a
// message saying so.
//
//   GRAFT_ASSIGN_OR_RETURN(exir::Archive a, exir::Archive::Parse(std::move(bytes), path));
//   GRAFT_ASSIGN_OR_RETURN(exir::Program p, exir::Program::Parse(a.program_json(), path));
//   ... rewrite p.graph() ...
//   GRAFT_ASSIGN_OR_RETURN(std::string json, p.Write());
//   std::string zip = a.WriteWithProgram(json);
#ifndef GRAFT_INTEROP_EXIR_ZIP_H_
#define GRAFT_INTEROP_EXIR_ZIP_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "graft/ir/checked_math.h"
#include "graft/ir/limits.h"
#include "graft/ir/status.h"

namespace graft {
namespace zip {

inline uint32_t Crc32(absl::string_view data, uint32_t crc = 0) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (unsigned char b : data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// One stored entry; `data` views the archive's bytes (or the caller's).
struct Entry {
  std::string name;
  absl::string_view data;
  uint32_t crc = 0;
  uint16_t version_made_by = 20;
  uint16_t version_needed = 20;
  uint16_t mod_time = 0;
  uint16_t mod_date = (1980 - 1980) << 9 | 1 << 5 | 1;  // 1980-01-01
  uint32_t external_attr = 0600u << 16;
};

namespace zip_internal {

inline uint16_t U16(absl::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) |
                               static_cast<unsigned char>(b[at + 1]) << 8);
}
inline uint32_t U32(absl::string_view b, size_t at) {
  return static_cast<uint32_t>(U16(b, at)) | static_cast<uint32_t>(U16(b, at + 2)) << 16;
}
inline void Put16(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v & 0xFF));
  out->push_back(static_cast<char>((v >> 8) & 0xFF));
}
inline void Put32(std::string* out, uint32_t v) {
  Put16(out, v & 0xFFFF);
  Put16(out, v >> 16);
}

}  // namespace zip_internal

inline bool LooksLikeZip(absl::string_view bytes) {
  return bytes.size() >= 4 && bytes.substr(0, 4) == absl::string_view("PK\x03\x04", 4);
}

// What ReadStored accepts; tests lower the limits.
struct ReadLimits {
  int max_entries = kMaxZipEntries;
  int64_t max_total_bytes = kMaxZipTotalBytes;
};

// The entries of a zip archive whose entries are all stored. `bytes` must
// outlive the result (entries view it).
//
// Every offset and size comes from the file, so each is checked against
// the buffer with checked arithmetic before it is read. Entries may not
// overlap one another or the central directory: a central directory
// listing one stored entry many times would otherwise turn a small file
// into gigabytes of entries (each copied on write).
inline absl::StatusOr<std::vector<Entry>> ReadStored(absl::string_view bytes,
                                                     absl::string_view filename = "<zip>",
                                                     const ReadLimits& limits = {}) {
  using zip_internal::U16;
  using zip_internal::U32;
  auto fail = [&](absl::string_view what) {
    return WithErrorKind(absl::InvalidArgumentError(absl::StrCat(filename, ": ", what)),
                         ErrorKind::kMalformedInput);
  };
  const int64_t size = static_cast<int64_t>(bytes.size());
  // Whether [offset, offset + len) lies within [0, end).
  auto within = [](int64_t offset, int64_t len, int64_t end) {
    std::optional<int64_t> stop = CheckedAdd(offset, len);
    return offset >= 0 && len >= 0 && stop && *stop <= end;
  };
  // The end-of-central-directory record sits in the last 22 + 65535 bytes.
  if (size < 22) return fail("not a zip archive (too short)");
  int64_t eocd = -1;
  int64_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
  for (int64_t i = size - 22; i >= lowest; --i) {
    if (U32(bytes, static_cast<size_t>(i)) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return fail("not a zip archive (no end of central directory)");
  uint16_t count = U16(bytes, eocd + 10);
  uint32_t cd_size = U32(bytes, eocd + 12);
  uint32_t cd_offset = U32(bytes, eocd + 16);
  if (count == 0xFFFF || cd_offset == 0xFFFFFFFFu)
    return WithErrorKind(fail("ZIP64 archives are not supported"), ErrorKind::kUnsupported);
  if (!within(cd_offset, cd_size, eocd)) return fail("corrupt zip (central directory out of range)");
  if (count > limits.max_entries)
    return WithErrorKind(
        fail(absl::StrCat("the central directory lists ", count,
                          " entries, more than kMaxZipEntries (", limits.max_entries,
                          "); executorch.exir.save writes five")),
        ErrorKind::kLimitExceeded);
  std::vector<Entry> entries;
  // [local header, end of data) of each entry, to refuse overlaps.
  std::vector<std::pair<int64_t, int64_t>> spans;
  int64_t total = 0;
  int64_t p = cd_offset;
  for (int i = 0; i < count; ++i) {
    if (!within(p, 46, eocd) || U32(bytes, p) != 0x02014b50)
      return fail("corrupt zip (bad central directory)");
    Entry e;
    e.version_made_by = U16(bytes, p + 4);
    e.version_needed = U16(bytes, p + 6);
    uint16_t flags = U16(bytes, p + 8);
    uint16_t method = U16(bytes, p + 10);
    e.mod_time = U16(bytes, p + 12);
    e.mod_date = U16(bytes, p + 14);
    e.crc = U32(bytes, p + 16);
    uint32_t csize = U32(bytes, p + 20), usize = U32(bytes, p + 24);
    uint16_t name_len = U16(bytes, p + 28), extra_len = U16(bytes, p + 30), comment_len = U16(bytes, p + 32);
    e.external_attr = U32(bytes, p + 38);
    uint32_t local = U32(bytes, p + 42);
    if (!within(p + 46, name_len, eocd)) return fail("corrupt zip (entry name out of range)");
    e.name = std::string(bytes.substr(p + 46, name_len));
    if (flags & 1)
      return WithErrorKind(fail(absl::StrCat("entry '", e.name, "' is encrypted")),
                           ErrorKind::kUnsupported);
    if (method != 0)
      return WithErrorKind(
          fail(absl::StrCat("entry '", e.name, "' is compressed (method ", method,
                            "); graft reads the uncompressed zips executorch.exir.save writes")),
          ErrorKind::kUnsupported);
    if (csize == 0xFFFFFFFFu || usize == 0xFFFFFFFFu || local == 0xFFFFFFFFu)
      return WithErrorKind(fail("ZIP64 archives are not supported"), ErrorKind::kUnsupported);
    if (csize != usize) return fail(absl::StrCat("corrupt zip (entry '", e.name, "' sizes differ)"));
    if (!within(local, 30, cd_offset) || U32(bytes, local) != 0x04034b50)
      return fail(absl::StrCat("corrupt zip (no local header for '", e.name, "')"));
    int64_t data = int64_t{local} + 30 + U16(bytes, local + 26) + U16(bytes, local + 28);
    if (!within(data, csize, cd_offset))
      return fail(absl::StrCat("corrupt zip (entry '", e.name, "' truncated or runs into the central directory)"));
    std::optional<int64_t> sum = CheckedAdd(total, int64_t{usize});
    if (!sum || *sum > limits.max_total_bytes)
      return WithErrorKind(fail(absl::StrCat("the entries hold more than kMaxZipTotalBytes (",
                                             limits.max_total_bytes, " bytes) in all")),
                           ErrorKind::kLimitExceeded);
    total = *sum;
    e.data = bytes.substr(data, csize);
    spans.emplace_back(local, data + csize);
    entries.push_back(std::move(e));
    p += 46 + int64_t{name_len} + extra_len + comment_len;
  }
  // Sorted by start, each span must end where (or before) the next begins.
  std::vector<size_t> order(spans.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return spans[a] != spans[b] ? spans[a] < spans[b] : a < b;  // ties: directory order
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const auto& prev = spans[order[k - 1]];
    const auto& next = spans[order[k]];
    if (next.first < prev.second)
      return fail(absl::StrCat("corrupt zip (entries '", entries[order[k - 1]].name, "' and '",
                               entries[order[k]].name,
                               "' overlap; each entry must have bytes of its own)"));
  }
  return entries;
}

// A zip archive of `entries`, stored, in order. CRCs are taken from the
// entries (compute them with Crc32 for new data).
inline absl::StatusOr<std::string> WriteStored(const std::vector<Entry>& entries) {
  using zip_internal::Put16;
  using zip_internal::Put32;
  std::string out, cd;
  size_t total = 0;
  for (const Entry& e : entries) total += 30 + e.name.size() + e.data.size() + 46 + e.name.size();
  out.reserve(total + 22);
  if (entries.size() >= 0xFFFF) return absl::InvalidArgumentError("too many zip entries (ZIP64 needed)");
  for (const Entry& e : entries) {
    if (out.size() >= 0xFFFFFFFFu || e.data.size() >= 0xFFFFFFFFu)
      return absl::InvalidArgumentError("archive larger than 4 GiB (ZIP64 needed)");
    uint32_t offset = static_cast<uint32_t>(out.size());
    Put32(&out, 0x04034b50);
    Put16(&out, e.version_needed);
    Put16(&out, 0);  // flags
    Put16(&out, 0);  // stored
    Put16(&out, e.mod_time);
    Put16(&out, e.mod_date);
    Put32(&out, e.crc);
    Put32(&out, static_cast<uint32_t>(e.data.size()));
    Put32(&out, static_cast<uint32_t>(e.data.size()));
    Put16(&out, static_cast<uint32_t>(e.name.size()));
    Put16(&out, 0);  // extra
    out += e.name;
    out.append(e.data.data(), e.data.size());

    Put32(&cd, 0x02014b50);
    Put16(&cd, e.version_made_by);
    Put16(&cd, e.version_needed);
    Put16(&cd, 0);
    Put16(&cd, 0);
    Put16(&cd, e.mod_time);
    Put16(&cd, e.mod_date);
    Put32(&cd, e.crc);
    Put32(&cd, static_cast<uint32_t>(e.data.size()));
    Put32(&cd, static_cast<uint32_t>(e.data.size()));
    Put16(&cd, static_cast<uint32_t>(e.name.size()));
    Put16(&cd, 0);  // extra
    Put16(&cd, 0);  // comment
    Put16(&cd, 0);  // disk
    Put16(&cd, 0);  // internal attributes
    Put32(&cd, e.external_attr);
    Put32(&cd, offset);
    cd += e.name;
  }
  if (out.size() + cd.size() >= 0xFFFFFFFFu)
    return absl::InvalidArgumentError("archive larger than 4 GiB (ZIP64 needed)");
  uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out += cd;
  Put32(&out, 0x06054b50);
  Put16(&out, 0);
  Put16(&out, 0);
  Put16(&out, static_cast<uint32_t>(entries.size()));
  Put16(&out, static_cast<uint32_t>(entries.size()));
  Put32(&out, static_cast<uint32_t>(cd.size()));
  Put32(&out, cd_offset);
  Put16(&out, 0);  // comment
  return out;
}

}  // namespace zip

namespace exir {

inline constexpr absl::string_view kProgramEntry = "serialized_exported_program.json";

// An archive written by executorch.exir.save. Owns its bytes.
class Archive {
 public:
  static absl::StatusOr<Archive> Parse(std::string bytes, absl::string_view filename = "<zip>") {
    Archive a;
    a.bytes_ = std::make_unique<std::string>(std::move(bytes));
    auto entries = zip::ReadStored(*a.bytes_, filename);
    if (!entries.ok()) return entries.status();
    a.entries_ = std::move(*entries);
    a.program_ = -1;
    for (size_t i = 0; i < a.entries_.size(); ++i) {
      if (a.entries_[i].name == kProgramEntry) a.program_ = static_cast<int>(i);
    }
    if (a.program_ < 0)
      return WithErrorKind(absl::InvalidArgumentError(absl::StrCat(
                               filename, ": no ", kProgramEntry,
                               " in this zip (is it from executorch.exir.save?)")),
                           ErrorKind::kMalformedInput);
    const zip::Entry& p = a.entries_[a.program_];
    if (zip::Crc32(p.data) != p.crc)
      return WithErrorKind(
          absl::DataLossError(absl::StrCat(filename, ": ", kProgramEntry, " fails its CRC check")),
          ErrorKind::kMalformedInput);
    return a;
  }

  absl::string_view program_json() const { return entries_[program_].data; }
  const std::vector<zip::Entry>& entries() const { return entries_; }

  // The same archive with the program replaced by `json`; every other entry
  // is copied byte for byte.
  absl::StatusOr<std::string> WriteWithProgram(absl::string_view json) const {
    std::vector<zip::Entry> entries = entries_;
    entries[program_].data = json;
    entries[program_].crc = zip::Crc32(json);
    return zip::WriteStored(entries);
  }

 private:
  std::unique_ptr<std::string> bytes_;
  std::vector<zip::Entry> entries_;
  int program_ = -1;
};

}  // namespace exir
}  // namespace graft

#endif  // GRAFT_INTEROP_EXIR_ZIP_H_
