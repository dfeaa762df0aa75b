#include "common/crc32c.h"

#include <isa-l/crc.h>

namespace hydrant::crc32c {

uint32_t Extend(uint32_t init, const void* data, size_t n) {
  // ISA-L's crc32_iscsi works on the un-inverted register; standard CRC32C
  // pre- and post-inverts.
  return ~crc32_iscsi(static_cast<unsigned char*>(const_cast<void*>(data)), static_cast<int>(n),
                      ~init);
}

}  // namespace hydrant::crc32c
