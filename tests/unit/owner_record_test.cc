// The in-band owner record: layout, field widths and the user-pointer
// arithmetic every header block relies on.
#include "runtime/owner_record.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace interpsan {
namespace {

TEST(BlockHeaderTest, IsSixteenBytesAndSixteenAligned) {
  EXPECT_EQ(sizeof(BlockHeader), 16u);
  EXPECT_EQ(alignof(BlockHeader), 16u);
  // An array of headers keeps each user pointer 16-aligned, like malloc.
  BlockHeader headers[3];
  for (BlockHeader& h : headers) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(h.user()) % 16, 0u);
  }
}

TEST(BlockHeaderTest, FieldsRoundTripAtTheirLimits) {
  BlockHeader h;
  memset(&h, 0, sizeof(h));
  h.magic = kLiveMagic;
  h.trace_id = 0xfedcba98u;
  h.size = kMaxHeaderBlockSize;
  h.owner = 0xffff;
  h.domain = static_cast<uint8_t>(Domain::kObj);
  EXPECT_EQ(h.magic, kLiveMagic);
  EXPECT_EQ(h.trace_id, 0xfedcba98u);
  EXPECT_EQ(h.size, (uint64_t{1} << 46) - 1);
  EXPECT_EQ(h.owner, 0xffffu);
  EXPECT_EQ(h.block_domain(), Domain::kObj);

  // Neighbouring bit-fields do not bleed into each other.
  h.size = 0;
  EXPECT_EQ(h.owner, 0xffffu);
  EXPECT_EQ(h.block_domain(), Domain::kObj);
  h.owner = 0;
  h.size = kMaxHeaderBlockSize;
  EXPECT_EQ(h.block_domain(), Domain::kObj);
  EXPECT_EQ(h.owner, 0u);
  h.domain = static_cast<uint8_t>(Domain::kRaw);
  EXPECT_EQ(h.size, kMaxHeaderBlockSize);
  EXPECT_EQ(h.owner, 0u);
  EXPECT_EQ(h.block_domain(), Domain::kRaw);
}

TEST(BlockHeaderTest, EveryDomainRoundTrips) {
  for (Domain d : {Domain::kRaw, Domain::kMem, Domain::kObj}) {
    BlockHeader h{};
    h.domain = static_cast<uint8_t>(d);
    EXPECT_EQ(h.block_domain(), d);
  }
}

TEST(BlockHeaderTest, SizeAndOwnerTakeOnlyTheirBits) {
  EXPECT_EQ(kMaxHeaderBlockSize, (uint64_t{1} << 46) - 1);
  BlockHeader h{};
  h.size = uint64_t{1} << 46;  // one past the field: wraps to 0
  EXPECT_EQ(h.size, 0u);
  EXPECT_EQ(h.owner, 0u);
  h.size = 123456789;
  h.owner = kNoOwner;
  EXPECT_EQ(h.size, 123456789u);
  EXPECT_EQ(h.owner, kNoOwner);
}

TEST(BlockHeaderTest, FromUserIsTheInverseOfUser) {
  alignas(16) unsigned char storage[64];
  auto* h = reinterpret_cast<BlockHeader*>(storage);
  void* user = h->user();
  EXPECT_EQ(static_cast<unsigned char*>(user), storage + 16);
  EXPECT_EQ(BlockHeader::FromUser(user), h);
  const void* const_user = user;
  EXPECT_EQ(BlockHeader::FromUser(const_user)->user(), user);
}

TEST(DomainTest, NumberedLikePyMemAllocatorDomain) {
  // PYMEM_DOMAIN_RAW = 0, PYMEM_DOMAIN_MEM = 1, PYMEM_DOMAIN_OBJ = 2.
  EXPECT_EQ(static_cast<int>(Domain::kRaw), 0);
  EXPECT_EQ(static_cast<int>(Domain::kMem), 1);
  EXPECT_EQ(static_cast<int>(Domain::kObj), 2);
}

TEST(DomainTest, NamesAndApis) {
  EXPECT_EQ(std::string(DomainName(Domain::kRaw)), "raw");
  EXPECT_EQ(std::string(DomainName(Domain::kMem)), "mem");
  EXPECT_EQ(std::string(DomainName(Domain::kObj)), "obj");
  EXPECT_EQ(std::string(DomainApi(Domain::kRaw)),
            "PyMem_RawMalloc/PyMem_RawFree");
  EXPECT_EQ(std::string(DomainApi(Domain::kMem)), "PyMem_Malloc/PyMem_Free");
  EXPECT_EQ(std::string(DomainApi(Domain::kObj)),
            "PyObject_Malloc/PyObject_Free");
  // A corrupted domain value (the field has 2 bits) still names something.
  EXPECT_EQ(std::string(DomainName(static_cast<Domain>(3))), "?");
  EXPECT_EQ(std::string(DomainApi(static_cast<Domain>(3))), "?");
}

TEST(OwnerRecordTest, MagicsDiffer) {
  EXPECT_NE(kLiveMagic, kFreedMagic);
  EXPECT_NE(kLiveMagic, 0u);
  EXPECT_EQ(kNoOwner, 0);
}

}  // namespace
}  // namespace interpsan
