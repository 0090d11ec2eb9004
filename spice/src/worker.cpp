// The worker side of the pool: the loop of `bmru worker`.
#include <unistd.h>

#include <cstring>
#include <optional>

#include "spice/pool.hpp"
#include "spice/session.hpp"
#include "wire.hpp"

namespace bmru::spice {
namespace {

class Context final : public JobContext {
 public:
  void send(const std::string& message) override {
    if (!wire::write_frame(wire::kMessagesFd, wire::message, message))
      throw Error("The parent process stopped listening");
  }
  Session& session() override {
    if (!session_) session_.emplace();
    return *session_;
  }
  bool lost() const { return session_ && !session_->usable(); }
  void retire() override { retire_ = true; }
  bool retiring() const { return retire_; }

 private:
  std::optional<Session> session_;
  bool retire_ = false;
};

}  // namespace

int worker_main(const std::map<std::string, JobHandler>& handlers) {
  Context context;
  wire::Type type;
  std::string frame;
  while (wire::read_frame(wire::kJobsFd, type, frame)) {
    if (type != wire::job || frame.size() < 8) return 2;
    std::uint64_t n = 0;
    std::memcpy(&n, frame.data(), 8);
    const std::string kind = frame.substr(8, n);
    const std::string payload = frame.substr(8 + n);
    const auto it = handlers.find(kind);
    wire::Type result = wire::done;
    std::string error;
    if (it == handlers.end()) {
      result = wire::failed;
      error = "This worker has no handler for jobs of kind '" + kind + "'";
    } else {
      try {
        it->second(payload, context);
      } catch (const std::exception& e) {
        result = wire::failed;
        error = e.what();
      }
    }
    if (context.lost() || (context.retiring() && result == wire::failed)) result = wire::lost;
    if (context.retiring() && result == wire::done) result = wire::retired;
    if (!wire::write_frame(wire::kMessagesFd, result, error)) return 1;
    if (result == wire::lost || result == wire::retired) return context.lost() ? 3 : 0;
  }
  return 0;
}

}  // namespace bmru::spice
