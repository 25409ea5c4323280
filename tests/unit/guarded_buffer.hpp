// Places a test input right before a page that may not be read, so that any read past
// the end of the input faults at once (the picohttpparser habit).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string_view>

namespace mxtls::test {

class guarded_buffer {
 public:
  explicit guarded_buffer(std::string_view data) {
    std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::size_t pages = (data.size() + page - 1) / page + 1;
    size_ = pages * page;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(p);
    char* guard = base_ + size_ - page;
    if (mprotect(guard, page, PROT_NONE) != 0) throw std::runtime_error("mprotect failed");
    begin_ = guard - data.size();
    if (!data.empty()) std::memcpy(begin_, data.data(), data.size());
    length_ = data.size();
  }
  ~guarded_buffer() { munmap(base_, size_); }
  guarded_buffer(const guarded_buffer&) = delete;
  guarded_buffer& operator=(const guarded_buffer&) = delete;

  std::string_view view() const { return {begin_, length_}; }

 private:
  char* base_ = nullptr;
  char* begin_ = nullptr;
  std::size_t size_ = 0;
  std::size_t length_ = 0;
};

}  // namespace mxtls::test
