#include "destinations/md5_stream.h"

#include <openssl/evp.h>

#include <algorithm>

namespace hydrant::store {

Md5Stream::Md5Stream() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_md5(), nullptr); }

Md5Stream::~Md5Stream() {
  if (helper_.joinable()) {
    {
      std::lock_guard l(mu_);
      abandon_ = true;
    }
    cv_.notify_all();
    helper_.join();
  }
  EVP_MD_CTX_free(ctx_);
}

void Md5Stream::Add(std::string_view bytes) {
  if (bytes.empty()) return;
  added_ += bytes.size();
  if (!helper_.joinable()) {
    if (added_ <= kInlineBytes) {
      EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
      return;
    }
    // Everything before was hashed inline, in order; the helper continues.
    helper_ = std::thread([this] { Run(); });
  }
  while (!bytes.empty()) {
    std::string piece(bytes.substr(0, kPieceBytes));
    bytes.remove_prefix(piece.size());
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return queued_bytes_ + piece.size() <= kMaxQueuedBytes; });
    queued_bytes_ += piece.size();
    peak_queued_bytes_ = std::max(peak_queued_bytes_, queued_bytes_);
    queue_.push_back(std::move(piece));
    l.unlock();
    cv_.notify_all();
  }
}

void Md5Stream::Run() {
  std::unique_lock l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return abandon_ || closing_ || !queue_.empty(); });
    if (abandon_) return;
    if (queue_.empty()) return;  // closing, and everything is hashed
    std::string block = std::move(queue_.front());
    queue_.pop_front();
    l.unlock();
    EVP_DigestUpdate(ctx_, block.data(), block.size());
    l.lock();
    queued_bytes_ -= block.size();
    cv_.notify_all();  // room for the writer
  }
}

std::string Md5Stream::Finish() {
  if (helper_.joinable()) {
    {
      std::lock_guard l(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    helper_.join();
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

}  // namespace hydrant::store
