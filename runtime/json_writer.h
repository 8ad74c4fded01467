// json_writer.h: a small, allocation-light JSON builder for reports.
//
// Used on the report path only (never in a signal handler): it appends to a
// std::string, which allocates with the C library's malloc, not with the
// Python allocators interpsan hooks.
#ifndef INTERPSAN_RUNTIME_JSON_WRITER_H_
#define INTERPSAN_RUNTIME_JSON_WRITER_H_

#include <cstdint>
#include <string>

namespace interpsan {

// Appends `s` to `out` as a JSON string literal (quotes included).
void AppendJsonString(std::string* out, const char* s);

// Builds one JSON object: Begin, then Key/Value pairs, then End.
class JsonObject {
 public:
  explicit JsonObject(std::string* out) : out_(out) { out_->push_back('{'); }
  JsonObject& Str(const char* key, const char* value);
  JsonObject& Str(const char* key, const std::string& value) {
    return Str(key, value.c_str());
  }
  JsonObject& Int(const char* key, int64_t value);
  JsonObject& Bool(const char* key, bool value);
  JsonObject& Null(const char* key);
  // `raw_json` must already be valid JSON (an array or object).
  JsonObject& Raw(const char* key, const std::string& raw_json);
  void End() { out_->push_back('}'); }

 private:
  void Key(const char* key);
  std::string* out_;
  bool first_ = true;
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_JSON_WRITER_H_
