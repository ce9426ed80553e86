// The SSRF guard's address classes and allow-list.
#include "retrieval/address_policy.h"

#include <gtest/gtest.h>

namespace lumen::retrieval {
namespace {

AddressKind Kind(std::string_view ip) {
  Result<IpAddress> a = ParseIpAddress(ip);
  EXPECT_TRUE(a.ok()) << ip;
  return a.ok() ? ClassifyAddress(*a) : AddressKind::kReserved;
}

TEST(AddressPolicyTest, ClassifiesIpv4Ranges) {
  EXPECT_EQ(Kind("8.8.8.8"), AddressKind::kPublic);
  EXPECT_EQ(Kind("127.0.0.1"), AddressKind::kLoopback);
  EXPECT_EQ(Kind("127.255.0.9"), AddressKind::kLoopback);
  EXPECT_EQ(Kind("10.1.2.3"), AddressKind::kPrivate);
  EXPECT_EQ(Kind("172.16.0.1"), AddressKind::kPrivate);
  EXPECT_EQ(Kind("172.32.0.1"), AddressKind::kPublic);
  EXPECT_EQ(Kind("192.168.1.1"), AddressKind::kPrivate);
  EXPECT_EQ(Kind("169.254.169.254"), AddressKind::kLinkLocal);
  EXPECT_EQ(Kind("100.64.0.1"), AddressKind::kCarrierGradeNat);
  EXPECT_EQ(Kind("100.128.0.1"), AddressKind::kPublic);
  EXPECT_EQ(Kind("224.0.0.1"), AddressKind::kMulticast);
  EXPECT_EQ(Kind("0.0.0.0"), AddressKind::kUnspecified);
  EXPECT_EQ(Kind("255.255.255.255"), AddressKind::kReserved);
}

TEST(AddressPolicyTest, ClassifiesIpv6IncludingEmbeddedIpv4) {
  EXPECT_EQ(Kind("2606:4700::1111"), AddressKind::kPublic);
  EXPECT_EQ(Kind("::1"), AddressKind::kLoopback);
  EXPECT_EQ(Kind("::"), AddressKind::kUnspecified);
  EXPECT_EQ(Kind("fd00::1"), AddressKind::kPrivate);
  EXPECT_EQ(Kind("fe80::1"), AddressKind::kLinkLocal);
  EXPECT_EQ(Kind("ff02::1"), AddressKind::kMulticast);
  EXPECT_EQ(Kind("::ffff:127.0.0.1"), AddressKind::kLoopback);
  EXPECT_EQ(Kind("::ffff:10.0.0.1"), AddressKind::kPrivate);
  EXPECT_EQ(Kind("::ffff:8.8.8.8"), AddressKind::kPublic);
  EXPECT_EQ(Kind("64:ff9b::a9fe:a9fe"), AddressKind::kLinkLocal);
  EXPECT_EQ(Kind("2002:7f00:1::"), AddressKind::kLoopback);
  EXPECT_EQ(Kind("[2001:db8::1]"), AddressKind::kReserved);
}

TEST(AddressPolicyTest, AllowListAdmitsListedAddressesOnly) {
  Result<AddressPolicy> p = AddressPolicy::Create({"127.0.0.1", "10.0.0.0/8", "::1"});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->CheckAddress(*ParseIpAddress("127.0.0.1")).ok());
  EXPECT_TRUE(p->CheckAddress(*ParseIpAddress("10.9.9.9")).ok());
  EXPECT_TRUE(p->CheckAddress(*ParseIpAddress("::1")).ok());
  EXPECT_EQ(p->CheckAddress(*ParseIpAddress("127.0.0.2")).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(p->CheckAddress(*ParseIpAddress("192.168.0.1")).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(AddressPolicy::Create({"not-an-ip"}).ok());
  EXPECT_FALSE(AddressPolicy::Create({"10.0.0.0/40"}).ok());
}

TEST(AddressPolicyTest, DefaultPolicyRefusesLiteralsAndOtherSchemes) {
  const AddressPolicy p;
  EXPECT_EQ(p.CheckUrl("http://127.0.0.1:8080/").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(p.CheckUrl("http://[::ffff:169.254.169.254]/").code(), StatusCode::kPermissionDenied);
  // Names are checked when the socket is opened (see the fetcher's integration tests).
  EXPECT_TRUE(p.CheckUrl("http://localhost/").ok());
  EXPECT_EQ(p.CheckUrl("file:///etc/passwd").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(p.CheckUrl("gopher://x/").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(p.CheckUrl("https://example.com/").ok());
  const std::string message = p.CheckUrl("http://10.0.0.1/").message();
  EXPECT_NE(message.find("private"), std::string::npos) << message;
}

}  // namespace
}  // namespace lumen::retrieval
