// The JSON writer behind report.json events: exact output for escapes,
// control characters, UTF-8, and object building.
#include "runtime/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace interpsan {
namespace {

std::string Quoted(const char* s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

TEST(AppendJsonStringTest, PlainTextIsQuoted) {
  EXPECT_EQ(Quoted(""), "\"\"");
  EXPECT_EQ(Quoted("hello world"), "\"hello world\"");
  EXPECT_EQ(Quoted("a/b"), "\"a/b\"");  // '/' needs no escape
}

TEST(AppendJsonStringTest, NullIsTheEmptyString) {
  EXPECT_EQ(Quoted(nullptr), "\"\"");
}

TEST(AppendJsonStringTest, QuotesAndBackslashesAreEscaped) {
  EXPECT_EQ(Quoted("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(Quoted("C:\\path\\"), "\"C:\\\\path\\\\\"");
  EXPECT_EQ(Quoted("\\\""), "\"\\\\\\\"\"");
}

TEST(AppendJsonStringTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(Quoted("a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
  EXPECT_EQ(Quoted("\x01"), "\"\\u0001\"");
  EXPECT_EQ(Quoted("\x1f"), "\"\\u001f\"");
  EXPECT_EQ(Quoted("\b\f"), "\"\\u0008\\u000c\"");
  EXPECT_EQ(Quoted("x\x1by"), "\"x\\u001by\"");
  // Every byte below 0x20 comes out escaped; none is copied raw.
  for (int c = 1; c < 0x20; c++) {
    char in[2] = {static_cast<char>(c), '\0'};
    std::string out = Quoted(in);
    EXPECT_EQ(out.find(static_cast<char>(c)), std::string::npos) << c;
    EXPECT_EQ(out[1], '\\') << c;
  }
  // DEL (0x7f) is legal in JSON strings.
  EXPECT_EQ(Quoted("\x7f"), "\"\x7f\"");
}

TEST(AppendJsonStringTest, Utf8PassesThroughUnchanged) {
  const char* text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad";
  EXPECT_EQ(Quoted(text), std::string("\"") + text + "\"");
}

TEST(AppendJsonStringTest, AppendsWithoutTouchingWhatIsThere) {
  std::string out = "[";
  AppendJsonString(&out, "a");
  out += ",";
  AppendJsonString(&out, "b\"");
  out += "]";
  EXPECT_EQ(out, "[\"a\",\"b\\\"\"]");
}

TEST(JsonObjectTest, EmptyObject) {
  std::string out;
  JsonObject(&out).End();
  EXPECT_EQ(out, "{}");
}

TEST(JsonObjectTest, BuildsEveryKindOfValue) {
  std::string out;
  JsonObject o(&out);
  o.Str("kind", "cross-interpreter-free")
      .Str("path", std::string("/x/\"y\".so"))
      .Int("zero", 0)
      .Int("negative", -42)
      .Bool("yes", true)
      .Bool("no", false)
      .Null("extension")
      .Raw("frames", "[{\"lineno\":3}]");
  o.End();
  EXPECT_EQ(out,
            "{\"kind\":\"cross-interpreter-free\","
            "\"path\":\"/x/\\\"y\\\".so\","
            "\"zero\":0,\"negative\":-42,"
            "\"yes\":true,\"no\":false,"
            "\"extension\":null,"
            "\"frames\":[{\"lineno\":3}]}");
}

TEST(JsonObjectTest, Int64Limits) {
  std::string out;
  JsonObject o(&out);
  o.Int("max", std::numeric_limits<int64_t>::max())
      .Int("min", std::numeric_limits<int64_t>::min());
  o.End();
  EXPECT_EQ(out, "{\"max\":9223372036854775807,\"min\":-9223372036854775808}");
}

TEST(JsonObjectTest, KeysAreEscapedToo) {
  std::string out;
  JsonObject o(&out);
  o.Str("a\"b\n", "v");
  o.End();
  EXPECT_EQ(out, "{\"a\\\"b\\n\":\"v\"}");
}

TEST(JsonObjectTest, NestsThroughRaw) {
  std::string inner;
  JsonObject i(&inner);
  i.Int("n", 1);
  i.End();
  std::string out = "prefix:";
  JsonObject o(&out);
  o.Raw("inner", inner).Str("after", "x");
  o.End();
  EXPECT_EQ(out, "prefix:{\"inner\":{\"n\":1},\"after\":\"x\"}");
}

}  // namespace
}  // namespace interpsan
