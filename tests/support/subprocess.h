// Test support: runs a program as a child process with its stdout and stderr captured, so tests
// can drive the real `lumen` binary the way a user's shell does.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace lumen::test_support {

class Subprocess {
 public:
  // Starts argv[0] (a path) with `argv`; `env` entries (NAME=VALUE) are added to this process's
  // environment. Throws std::runtime_error when the program cannot be started.
  Subprocess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    env_strings.insert(env_strings.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
    if (rc != 0) {
      close(out_fd_);
      close(err_fd_);
      throw std::runtime_error(std::string("cannot start ") + argv[0] + ": " + std::strerror(rc));
    }
  }
  ~Subprocess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      int status;
      waitpid(pid_, &status, 0);
    }
    close(out_fd_);
    close(err_fd_);
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) { kill(pid_, sig); }

  // Reads output until `needle` appears in stdout or `timeout` passes; returns whether it did.
  bool WaitForStdout(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (stdout_.find(needle) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= end || !Pump(50)) {
        return stdout_.find(needle) != std::string::npos;
      }
    }
    return true;
  }

  // Waits for the exit, reading all output; returns the exit code, 128+signal if killed, or -1
  // on timeout (the process is then killed).
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      Pump(20);
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        while (Pump(0)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= end) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        exited_ = true;
        return -1;
      }
    }
  }

  const std::string& out() const { return stdout_; }
  const std::string& err() const { return stderr_; }

 private:
  // Reads what is available on both pipes within `ms`; false when both are at EOF.
  bool Pump(int ms) {
    // A pipe at EOF is left out of poll (negative fd) so waiting does not spin.
    pollfd fds[2] = {{eof_[0] ? -1 : out_fd_, POLLIN, 0}, {eof_[1] ? -1 : err_fd_, POLLIN, 0}};
    if (poll(fds, 2, ms) < 0) return false;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        const ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          (i == 0 ? stdout_ : stderr_).append(buf, static_cast<std::size_t>(n));
        } else {
          eof_[i] = true;
        }
      }
    }
    return !(eof_[0] && eof_[1]);
  }

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  bool exited_ = false;
  bool eof_[2] = {false, false};
  std::string stdout_, stderr_;
};

// Runs a program to completion and returns {exit code, stdout, stderr}.
struct RunResult {
  int code;
  std::string out, err;
};
inline RunResult RunProcess(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env = {},
                            std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  Subprocess p(argv, env);
  const int code = p.Wait(timeout);
  return {code, p.out(), p.err()};
}

}  // namespace lumen::test_support
