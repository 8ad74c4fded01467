#include "runtime/json_writer.h"

#include <cstdio>

namespace interpsan {

void AppendJsonString(std::string* out, const char* s) {
  out->push_back('"');
  for (const unsigned char* p =
           reinterpret_cast<const unsigned char*>(s ? s : "");
       *p; p++) {
    unsigned char c = *p;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void JsonObject::Key(const char* key) {
  if (!first_) out_->push_back(',');
  first_ = false;
  AppendJsonString(out_, key);
  out_->push_back(':');
}

JsonObject& JsonObject::Str(const char* key, const char* value) {
  Key(key);
  AppendJsonString(out_, value);
  return *this;
}

JsonObject& JsonObject::Int(const char* key, int64_t value) {
  Key(key);
  out_->append(std::to_string(value));
  return *this;
}

JsonObject& JsonObject::Bool(const char* key, bool value) {
  Key(key);
  out_->append(value ? "true" : "false");
  return *this;
}

JsonObject& JsonObject::Null(const char* key) {
  Key(key);
  out_->append("null");
  return *this;
}

JsonObject& JsonObject::Raw(const char* key, const std::string& raw_json) {
  Key(key);
  out_->append(raw_json);
  return *this;
}

}  // namespace interpsan
