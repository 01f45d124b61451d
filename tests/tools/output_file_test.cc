// WriteOutputFile: what `graft-opt -o` may and may not do to what is at the
// path (regular files, new files, links, devices, FIFOs, directories), and
// that an interrupted write leaves no temporary file behind.
#include "tools/graft_opt/output_file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace graft {
namespace opt {
namespace {

class OutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") +
                       "/outXXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    ASSERT_NE(mkdtemp(buf.data()), nullptr);
    dir_ = buf.data();
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  static struct stat Lstat(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
    return st;
  }
  // Names in the directory, to find stray temporary files.
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    DIR* d = opendir(dir_.c_str());
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    closedir(d);
    return out;
  }

  std::string dir_;
};

TEST_F(OutputFileTest, NewFileGetsUmaskedMode) {
  mode_t old = umask(027);
  ASSERT_TRUE(WriteOutputFile(Path("a"), "hello").ok());
  umask(old);
  EXPECT_EQ(Read(Path("a")), "hello");
  EXPECT_EQ(Lstat(Path("a")).st_mode & 07777, 0640u);
  EXPECT_EQ(Entries().size(), 1u);
}

TEST_F(OutputFileTest, ReplacingKeepsTheMode) {
  Write(Path("a"), "old content that is longer");
  ASSERT_EQ(chmod(Path("a").c_str(), 0604), 0);
  ASSERT_TRUE(WriteOutputFile(Path("a"), "new").ok());
  EXPECT_EQ(Read(Path("a")), "new");
  EXPECT_EQ(Lstat(Path("a")).st_mode & 07777, 0604u);
  EXPECT_EQ(Entries().size(), 1u);
}

TEST_F(OutputFileTest, SymbolicLinkIsFollowedNotReplaced) {
  Write(Path("target"), "old");
  ASSERT_EQ(symlink("target", Path("link").c_str()), 0);
  ASSERT_TRUE(WriteOutputFile(Path("link"), "new").ok());
  EXPECT_TRUE(S_ISLNK(Lstat(Path("link")).st_mode));
  EXPECT_EQ(Read(Path("target")), "new");
}

TEST_F(OutputFileTest, DanglingLinkCreatesItsTarget) {
  ASSERT_EQ(symlink("made", Path("link").c_str()), 0);
  ASSERT_TRUE(WriteOutputFile(Path("link"), "x").ok());
  EXPECT_TRUE(S_ISLNK(Lstat(Path("link")).st_mode));
  EXPECT_TRUE(S_ISREG(Lstat(Path("made")).st_mode));
  EXPECT_EQ(Read(Path("made")), "x");
}

TEST_F(OutputFileTest, LinkLoopIsAnError) {
  ASSERT_EQ(symlink("b", Path("a").c_str()), 0);
  ASSERT_EQ(symlink("a", Path("b").c_str()), 0);
  absl::Status s = WriteOutputFile(Path("a"), "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("too many symbolic links"), absl::string_view::npos) << s;
}

TEST_F(OutputFileTest, HardLinksKeepSharingTheContent) {
  Write(Path("a"), "old content");
  ASSERT_EQ(link(Path("a").c_str(), Path("b").c_str()), 0);
  ASSERT_TRUE(WriteOutputFile(Path("a"), "new").ok());
  EXPECT_EQ(Read(Path("b")), "new");
  EXPECT_EQ(Lstat(Path("a")).st_ino, Lstat(Path("b")).st_ino);
}

TEST_F(OutputFileTest, DirectoryIsRefused) {
  ASSERT_EQ(mkdir(Path("d").c_str(), 0755), 0);
  absl::Status s = WriteOutputFile(Path("d"), "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is a directory"), absl::string_view::npos) << s;
  EXPECT_TRUE(S_ISDIR(Lstat(Path("d")).st_mode));
}

TEST_F(OutputFileTest, FifoIsWrittenNotReplaced) {
  ASSERT_EQ(mkfifo(Path("fifo").c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = Read(Path("fifo")); });
  absl::Status s = WriteOutputFile(Path("fifo"), "through the pipe");
  reader.join();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(got, "through the pipe");
  EXPECT_TRUE(S_ISFIFO(Lstat(Path("fifo")).st_mode));
}

// The same device as /dev/null, made in the test's directory: the machine's
// own /dev/null is never at risk even if this regresses.
TEST_F(OutputFileTest, CharacterDeviceIsWrittenNotReplaced) {
  if (mknod(Path("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "mknod needs root";
  ASSERT_TRUE(WriteOutputFile(Path("null"), "discarded").ok());
  EXPECT_TRUE(S_ISCHR(Lstat(Path("null")).st_mode));
  EXPECT_EQ(Entries().size(), 1u);
}

TEST_F(OutputFileTest, UnwritableDirectoryIsAnErrorWithThePath) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  ASSERT_EQ(mkdir(Path("ro").c_str(), 0555), 0);
  absl::Status s = WriteOutputFile(Path("ro/out"), "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ro"), absl::string_view::npos) << s;
}

TEST_F(OutputFileTest, TemporaryFileIsRemovedOnDestruction) {
  {
    TempOutput out;
    ASSERT_TRUE(out.Open(Path("a"), 0644).ok());
    EXPECT_FALSE(out.temp_name().empty());
    EXPECT_EQ(Entries().size(), 1u);
  }
  EXPECT_TRUE(Entries().empty());
}

// A run killed while its temporary file exists leaves nothing behind and
// still dies of the signal (its parent sees why it ended).
TEST_F(OutputFileTest, SignalRemovesTheTemporaryFile) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      TempOutput out;
      if (!out.Open(Path("a"), 0644).ok() || !out.Write("partial").ok()) _exit(3);
      raise(sig);
      _exit(4);  // not reached: the signal ends the process
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "signal " << sig << " status " << status;
    EXPECT_TRUE(Entries().empty()) << "signal " << sig << ": " << Entries()[0];
  }
}

// After a commit the handlers are back to what they were.
TEST_F(OutputFileTest, CommitRestoresSignalHandlers) {
  struct sigaction before {};
  sigaction(SIGTERM, nullptr, &before);
  ASSERT_TRUE(WriteOutputFile(Path("a"), "x").ok());
  struct sigaction after {};
  sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(before.sa_handler, after.sa_handler);
}

}  // namespace
}  // namespace opt
}  // namespace graft
