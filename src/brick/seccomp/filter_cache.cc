#include "brick/seccomp/filter_cache.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "brick/seccomp/profile_json.h"
#include "brick/sys/unique_fd.h"

namespace brick::seccomp {
namespace {

constexpr char kMagic[8] = {'B', 'R', 'K', 'S', 'C', 'M', 'P', '1'};
constexpr size_t kDigest = 32;
// A filter is at most BPF_MAXINSNS instructions; warnings are a few lines.
constexpr off_t kMaxEntry = 1 << 20;

using Digest = std::array<unsigned char, kDigest>;

Digest Sha256(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure; a zero digest then simply never matches.
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1) {
    d.fill(0);
  }
  return d;
}

std::string Hex(const Digest& d) {
  std::string out;
  for (unsigned char c : d) {
    out += fmt::format("{:02x}", c);
  }
  return out;
}

std::string KeyMaterial(const oci::Seccomp& profile, const CompileOptions& opts) {
  const scmp_version* v = seccomp_version();
  utsname u{};
  uname(&u);
  return fmt::format(
      "brick seccomp cache 1\nprofile {}\nallow_unknown {}\nenosys {}\nlibseccomp {}.{}.{}\n"
      "kernel {}\narch {}\n",
      SeccompToJson(profile), opts.allow_unknown_syscalls, opts.enosys_for_newer_syscalls,
      v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0, u.release, seccomp_arch_native());
}

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool U32(uint32_t* v) { return Bytes(v, 4); }
  bool Bytes(void* out, size_t n) {
    if (data_.size() - pos_ < n) {
      return false;
    }
    memcpy(out, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool String(std::string* s, size_t n) {
    if (data_.size() - pos_ < n) {
      return false;
    }
    s->assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Layout: magic, key, flags, needs_listener, counts, enosys thresholds, warnings, instructions,
// then the SHA-256 of everything before it.
std::string Serialize(const Digest& key, const BpfProgram& p) {
  std::string out(kMagic, sizeof(kMagic));
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  PutU32(&out, p.flags);
  PutU32(&out, p.needs_listener ? 1 : 0);
  PutU32(&out, static_cast<uint32_t>(p.instructions.size()));
  PutU32(&out, static_cast<uint32_t>(p.enosys.size()));
  PutU32(&out, static_cast<uint32_t>(p.warnings.size()));
  for (const EnosysThreshold& t : p.enosys) {
    PutU32(&out, t.audit_arch);
    PutU32(&out, static_cast<uint32_t>(t.first_number));
  }
  for (const std::string& w : p.warnings) {
    PutU32(&out, static_cast<uint32_t>(w.size()));
    out += w;
  }
  out.append(reinterpret_cast<const char*>(p.instructions.data()),
             p.instructions.size() * sizeof(sock_filter));
  Digest sum = Sha256(out);
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  return out;
}

std::optional<BpfProgram> Deserialize(std::string_view data, const Digest& want_key) {
  if (data.size() < sizeof(kMagic) + 2 * kDigest) {
    return std::nullopt;
  }
  std::string_view body = data.substr(0, data.size() - kDigest);
  Digest sum = Sha256(body);
  if (memcmp(sum.data(), data.data() + body.size(), kDigest) != 0) {
    return std::nullopt;
  }
  Reader r(body);
  char magic[sizeof(kMagic)];
  Digest key;
  uint32_t flags, listener, n_ins, n_enosys, n_warn;
  if (!r.Bytes(magic, sizeof(magic)) || memcmp(magic, kMagic, sizeof(kMagic)) != 0 ||
      !r.Bytes(key.data(), key.size()) || key != want_key || !r.U32(&flags) || !r.U32(&listener) ||
      !r.U32(&n_ins) || !r.U32(&n_enosys) || !r.U32(&n_warn) || n_ins == 0 ||
      n_ins > BPF_MAXINSNS || n_enosys > 8 || n_warn > 4096) {
    return std::nullopt;
  }
  BpfProgram p;
  p.flags = flags;
  p.needs_listener = listener != 0;
  for (uint32_t i = 0; i < n_enosys; ++i) {
    uint32_t arch, first;
    if (!r.U32(&arch) || !r.U32(&first)) {
      return std::nullopt;
    }
    p.enosys.push_back({arch, static_cast<int>(first)});
  }
  for (uint32_t i = 0; i < n_warn; ++i) {
    uint32_t len;
    std::string w;
    if (!r.U32(&len) || !r.String(&w, len)) {
      return std::nullopt;
    }
    p.warnings.push_back(std::move(w));
  }
  p.instructions.resize(n_ins);
  if (!r.Bytes(p.instructions.data(), n_ins * sizeof(sock_filter)) || !r.AtEnd()) {
    return std::nullopt;
  }
  return p;
}

// The cache directory, created if missing, or an error saying why it is not trusted.
Result<UniqueFd> OpenCacheDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    if (errno == ENOENT) {
      // One missing parent (e.g. /var/cache/brick) is made for the default location.
      std::string parent = dir.substr(0, dir.rfind('/'));
      if (!parent.empty() && mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoFail(errno, "seccomp cache: create {}", parent);
      }
      if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return ErrnoFail(errno, "seccomp cache: create {}", dir);
      }
    } else {
      return ErrnoFail(errno, "seccomp cache: create {}", dir);
    }
  }
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return ErrnoFail(errno, "seccomp cache: open {}", dir);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) {
    return ErrnoFail(errno, "seccomp cache: stat {}", dir);
  }
  if (st.st_uid != 0 || (st.st_mode & 07777) != 0700) {
    return Fail(
        "seccomp cache: {} is owned by uid {} with mode {:o}, not root with 0700; not used "
        "(chown root and chmod 0700 it)",
        dir, st.st_uid, st.st_mode & 07777);
  }
  return fd;
}

std::optional<std::string> ReadEntry(int dir_fd, const std::string& name) {
  UniqueFd fd(openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return std::nullopt;
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
      (st.st_mode & 0022) != 0 || st.st_size > kMaxEntry) {
    return std::nullopt;
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = pread(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return std::nullopt;
    }
    done += static_cast<size_t>(n);
  }
  return data;
}

Status WriteEntry(int dir_fd, const std::string& dir, const std::string& name,
                  std::string_view data) {
  uint64_t nonce = 0;
  if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) {
    nonce = static_cast<uint64_t>(getpid());
  }
  std::string tmp = fmt::format(".tmp-{}-{:016x}", getpid(), nonce);
  UniqueFd fd(
      openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    return ErrnoFail(errno, "seccomp cache: create {}/{}", dir, tmp);
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      unlinkat(dir_fd, tmp.c_str(), 0);
      return ErrnoFail(err, "seccomp cache: write {}/{}", dir, tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) {
    int err = errno;
    unlinkat(dir_fd, tmp.c_str(), 0);
    return ErrnoFail(err, "seccomp cache: rename {}/{} to {}", dir, tmp, name);
  }
  return Ok();
}

}  // namespace

std::string Sha256Hex(std::string_view data) { return Hex(Sha256(data)); }

std::string FilterCache::KeyFor(const oci::Seccomp& profile, const CompileOptions& opts) const {
  return Sha256Hex(KeyMaterial(profile, opts));
}

Result<BpfProgram> FilterCache::Compile(const oci::Seccomp& profile, const CompileOptions& opts,
                                        bool* hit) const {
  if (hit != nullptr) {
    *hit = false;
  }
  Digest key = Sha256(KeyMaterial(profile, opts));
  std::string name = Hex(key);
  auto dir_fd = OpenCacheDir(dir_);
  if (dir_fd) {
    if (auto data = ReadEntry(dir_fd->get(), name)) {
      if (auto program = Deserialize(*data, key)) {
        if (hit != nullptr) {
          *hit = true;
        }
        return std::move(*program);
      }
    }
  }
  BpfProgram program = BRICK_TRY_VALUE(CompileFilter(profile, opts));
  if (!dir_fd) {
    program.warnings.push_back(dir_fd.error().message());
    return program;
  }
  if (auto s = WriteEntry(dir_fd->get(), dir_, name, Serialize(key, program)); !s) {
    program.warnings.push_back(s.error().message());
  }
  return program;
}

}  // namespace brick::seccomp
