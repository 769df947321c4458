// Renders the report for people: one section per isolation layer, in the order a reader
// checks them (who am I, what may I do, what can I see, what limits me).
#include <cstdio>
#include <string>

#include "report.h"

namespace brick::inspect {
namespace {

std::string Text(const Value* v) {
  if (v == nullptr) {
    return "?";
  }
  switch (v->kind()) {
    case Value::Kind::kNull:
      return "-";
    case Value::Kind::kBool:
      return v->AsBool() ? "yes" : "no";
    case Value::Kind::kInt:
      return std::to_string(v->AsInt());
    case Value::Kind::kString:
      return v->AsString();
    case Value::Kind::kArray: {
      std::string out;
      for (const Value& item : v->items()) {
        out += (out.empty() ? "" : ",") + Text(&item);
      }
      return out.empty() ? "none" : out;
    }
    case Value::Kind::kObject:
      if (const Value* err = v->Find("error")) {
        return "unavailable (" + Text(err) + ")";
      }
      return v->ToJson();
  }
  return "?";
}

// Capability names, wrapped under the hex mask so that a full set stays readable.
std::string WrapNames(const Value* names) {
  if (names == nullptr || names->items().empty()) {
    return "  none";
  }
  constexpr size_t kWidth = 80;
  std::string out;
  std::string line;
  for (const Value& name : names->items()) {
    if (!line.empty() && line.size() + name.AsString().size() + 1 > kWidth) {
      out += "\n" + std::string(19, ' ') + line;
      line.clear();
    }
    line += (line.empty() ? "" : " ") + name.AsString();
  }
  out += "\n" + std::string(19, ' ') + line;
  return out;
}

std::string Field(const Value& obj, std::string_view key) { return Text(obj.Find(key)); }

void Line(std::string& out, std::string_view label, const std::string& text) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "  %-14.*s ", static_cast<int>(label.size()), label.data());
  out += buf;
  out += text;
  out += '\n';
}

std::string ErrorOf(const Value* v) {
  if (v != nullptr && v->kind() == Value::Kind::kObject) {
    if (const Value* err = v->Find("error")) {
      return "unavailable (" + Text(err) + ")";
    }
  }
  return "";
}

std::string IdMapText(const Value* map) {
  if (std::string err = ErrorOf(map); !err.empty()) {
    return err;
  }
  if (map == nullptr || map->items().empty()) {
    return "empty (no mapping written)";
  }
  std::string out;
  for (const Value& e : map->items()) {
    if (e.items().size() != 3) {
      continue;
    }
    if (!out.empty()) {
      out += "; ";
    }
    out += "inside " + Text(&e.items()[0]) + " -> host " + Text(&e.items()[1]) + ", " +
           Text(&e.items()[2]) + " ids";
  }
  return out;
}

void Identity(std::string& out, const Value& r) {
  out += "identity\n";
  Line(out, "process",
       "pid " + Field(r, "pid") + ", ppid " + Field(r, "ppid") + ", session " + Field(r, "sid") +
           ", process group " + Field(r, "pgid"));
  if (const Value* u = r.Find("user")) {
    Line(out, "user",
         "uid " + Field(*u, "uid") + " (" + Field(*u, "name") + "), gid " + Field(*u, "gid") +
             " (" + Field(*u, "group") + "), euid " + Field(*u, "euid") + ", groups " +
             Field(*u, "groups"));
  }
  Line(out, "uid_map", IdMapText(r.Find("uid_map")));
  Line(out, "gid_map", IdMapText(r.Find("gid_map")));
  Line(out, "setgroups", Field(r, "setgroups"));
  Line(out, "umask", Field(r, "umask"));
  if (const Value* t = r.Find("terminal")) {
    Line(out, "terminal",
         std::string(t->Find("stdin_isatty")->AsBool() ? "stdin is a tty" : "stdin is not a tty") +
             ", " +
             (t->Find("controlling_tty")->AsBool() ? "has a controlling terminal"
                                                   : "no controlling terminal"));
  }
  Line(out, "cwd", Field(r, "cwd"));
}

void Privileges(std::string& out, const Value& r) {
  out += "\nprivileges\n";
  if (const Value* caps = r.Find("capabilities")) {
    if (std::string err = ErrorOf(caps); !err.empty()) {
      Line(out, "capabilities", err);
    }
    for (const auto& [set, entry] : caps->members()) {
      if (set == "error") {
        continue;
      }
      Line(out, set, Field(entry, "hex") + WrapNames(entry.Find("names")));
    }
  }
  std::string seccomp = Field(r, "seccomp");
  std::string mode = seccomp == "0" ? "disabled" : seccomp == "1" ? "strict" : "filter";
  Line(out, "seccomp", seccomp + " (" + mode + ", " + Field(r, "seccomp_filters") + " filters)");
  Line(out, "no_new_privs", Field(r, "no_new_privs"));
  Line(out, "dumpable", Field(r, "dumpable"));
}

void Filesystem(std::string& out, const Value& r) {
  out += "\nfilesystem\n";
  const Value* ro = r.Find("root_readonly");
  Line(out, "root",
       ro != nullptr && ro->kind() == Value::Kind::kBool ? (ro->AsBool() ? "read-only" : "WRITABLE")
                                                         : Text(ro));
  out += "  mounts (mount point, type, options, source)\n";
  if (const Value* mounts = r.Find("mounts"); mounts != nullptr) {
    if (std::string err = ErrorOf(mounts); !err.empty()) {
      out += "    " + err + "\n";
    }
    for (const Value& m : mounts->items()) {
      char buf[512];
      std::snprintf(buf, sizeof(buf), "    %-28s %-8s %s  (%s)\n", Field(m, "mount_point").c_str(),
                    Field(m, "fstype").c_str(), Field(m, "options").c_str(),
                    Field(m, "source").c_str());
      out += buf;
    }
  }
  out += "  /dev\n";
  if (const Value* dev = r.Find("dev"); dev != nullptr) {
    if (std::string err = ErrorOf(dev); !err.empty()) {
      out += "    " + err + "\n";
    }
    for (const Value& e : dev->items()) {
      std::string what = Field(e, "type");
      if (e.Find("major") != nullptr) {
        what += " " + Field(e, "major") + ":" + Field(e, "minor") + " " + Field(e, "mode");
      } else if (e.Find("target") != nullptr) {
        what += " -> " + Field(e, "target");
      }
      char buf[512];
      std::snprintf(buf, sizeof(buf), "    %-10s %s\n", Field(e, "name").c_str(), what.c_str());
      out += buf;
    }
  }
  out += "  masked paths\n";
  if (const Value* masked = r.Find("masked_paths")) {
    for (const Value& m : masked->items()) {
      char buf[512];
      std::snprintf(buf, sizeof(buf), "    %-32s %s (%s)\n", Field(m, "path").c_str(),
                    m.Find("masked")->AsBool() ? "masked" : "EXPOSED", Field(m, "detail").c_str());
      out += buf;
    }
  }
  out += "  read-only paths\n";
  if (const Value* readonly = r.Find("readonly_paths")) {
    for (const Value& p : readonly->items()) {
      std::string state = !p.Find("exists")->AsBool()    ? "absent (" + Field(p, "error") + ")"
                          : p.Find("readonly")->AsBool() ? "read-only"
                                                         : "WRITABLE";
      char buf[512];
      std::snprintf(buf, sizeof(buf), "    %-32s %s\n", Field(p, "path").c_str(), state.c_str());
      out += buf;
    }
  }
}

void Limits(std::string& out, const Value& r) {
  out += "\nlimits (soft / hard)\n";
  if (const Value* limits = r.Find("rlimits")) {
    for (const auto& [name, v] : limits->members()) {
      std::string err = ErrorOf(&v);
      Line(out, name, err.empty() ? Field(v, "soft") + " / " + Field(v, "hard") : err);
    }
  }
}

void Namespaces(std::string& out, const Value& r) {
  out += "\nnamespaces\n";
  Line(out, "hostname", Field(r, "hostname"));
  Line(out, "domainname", Field(r, "domainname"));
  if (const Value* ns = r.Find("namespaces")) {
    if (std::string err = ErrorOf(ns); !err.empty()) {
      Line(out, "ns", err);
    }
    for (const auto& [name, link] : ns->members()) {
      if (name != "error") {
        Line(out, name, Text(&link));
      }
    }
  }
  out += "  cgroups\n";
  if (const Value* groups = r.Find("cgroups")) {
    if (std::string err = ErrorOf(groups); !err.empty()) {
      out += "    " + err + "\n";
    }
    for (const Value& g : groups->items()) {
      out += "    " + Field(g, "hierarchy") + ":" + Field(g, "controllers") + ":" +
             Field(g, "path") + "\n";
    }
  }
  out += "  network interfaces\n";
  if (const Value* net = r.Find("network")) {
    if (std::string err = ErrorOf(net); !err.empty()) {
      out += "    " + err + "\n";
    }
    for (const Value& i : net->items()) {
      std::string state = i.Find("error") != nullptr
                              ? "flags unavailable (" + Field(i, "error") + ")"
                          : i.Find("up")->AsBool() ? "up"
                                                   : "down";
      out += "    " + Field(i, "name") + " " + state + "\n";
    }
  }
}

void Fds(std::string& out, const Value& r) {
  out += "\nopen file descriptors\n";
  if (const Value* fds = r.Find("fds")) {
    if (std::string err = ErrorOf(fds); !err.empty()) {
      out += "  " + err + "\n";
    }
    for (const Value& f : fds->items()) {
      Line(out, Field(f, "fd"), Field(f, "target"));
    }
  }
}

}  // namespace

std::string RenderHumanReport(const Value& report) {
  std::string out = "brick-inspect: what isolates this process\n\n";
  Identity(out, report);
  Privileges(out, report);
  Filesystem(out, report);
  Limits(out, report);
  Namespaces(out, report);
  Fds(out, report);
  return out;
}

}  // namespace brick::inspect
