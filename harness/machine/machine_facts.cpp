#include "harness/machine/machine_facts.hpp"
#include "harness/machine/fact_making.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string_view>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <fmt/format.h>
#endif

#include "harness/base/error.hpp"
#include "harness/base/proc_files.hpp"
#include "harness/base/text.hpp"

namespace ipcatlas {

Fact make_fact(FactId id, std::string value, Fact::Verdict verdict, std::string hint) {
  return Fact{id.key, id.title, std::move(value), verdict, std::move(hint)};
}

Fact unreadable_fact(FactId id, const FileRead& file) {
  return make_fact(id, "unreadable: " + file.path + ": " + errno_name(file.err), Fact::Verdict::info);
}

namespace {

using Verdict = Fact::Verdict;

// Sorted entry names; sets `err` (errno) when the directory cannot be listed.
std::vector<std::string> list_dir(const std::string& path, int& err) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  err = ec.value();
  std::sort(names.begin(), names.end());
  return names;
}

bool has_word(const std::string& text, std::string_view word) {
  std::istringstream words(text);
  for (std::string w; words >> w;)
    if (w == word) return true;
  return false;
}

constexpr FactId kKernel{"kernel", "Kernel"};
constexpr FactId kCpuModel{"cpu_model", "CPU model"};
constexpr FactId kHypervisor{"hypervisor", "Hypervisor"};
constexpr FactId kPtraceScope{"ptrace_scope", "Yama ptrace_scope"};
constexpr FactId kSeccomp{"seccomp", "Seccomp"};
constexpr FactId kThp{"thp", "Transparent huge pages"};
constexpr FactId kGovernor{"governor", "Frequency governor"};
constexpr FactId kTurbo{"turbo", "Turbo"};
constexpr FactId kSmt{"smt", "SMT"};
constexpr FactId kMitigations{"mitigations", "CPU vulnerability mitigations"};
constexpr FactId kClocksource{"clocksource", "Clock source"};
constexpr FactId kNumaBalancing{"numa_balancing", "NUMA balancing"};

Fact kernel_fact(const std::string& root) {
  const FileRead file = read_first_line(root + "/proc/sys/kernel/osrelease");
  if (!file.ok()) return unreadable_fact(kKernel, file);
  return make_fact(kKernel, file.text, Verdict::info);
}

Fact cpu_model_fact(const FileRead& cpuinfo) {
  if (!cpuinfo.ok()) return unreadable_fact(kCpuModel, cpuinfo);
  // x86 says "model name"; older ARM "Processor"; MIPS "cpu model"; POWER "cpu".
  for (const char* key : {"model name", "Processor", "cpu model", "cpu"}) {
    const std::string model = field_value(cpuinfo.text, key);
    if (!model.empty()) return make_fact(kCpuModel, model, Verdict::info);
  }
  return make_fact(kCpuModel, "unknown (no model line in /proc/cpuinfo)", Verdict::info);
}

// The CPUID hypervisor leaf is only meaningful on the CPU we run on, never for a fake root.
std::string cpuid_hypervisor_vendor() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  __cpuid(0x40000000, eax, ebx, ecx, edx);
  char raw[13] = {};
  std::memcpy(raw, &ebx, 4);
  std::memcpy(raw + 4, &ecx, 4);
  std::memcpy(raw + 8, &edx, 4);
  const std::string signature(trim(raw));
  static constexpr std::pair<const char*, const char*> kKnown[] = {{"KVMKVMKVM", "KVM"},
                                                                   {"Microsoft Hv", "Hyper-V"},
                                                                   {"VMwareVMware", "VMware"},
                                                                   {"XenVMMXenVMM", "Xen"},
                                                                   {"TCGTCGTCGTCG", "QEMU TCG"}};
  for (const auto& [known, vendor] : kKnown)
    if (signature == known) return vendor;
  const bool printable = std::all_of(signature.begin(), signature.end(),
                                     [](char c) { return std::isprint(static_cast<unsigned char>(c)) != 0; });
  if (!signature.empty() && printable) return signature;
#endif
  return "present (vendor unknown)";
}

Fact virtualized_fact(const std::string& vendor) {
  return make_fact(kHypervisor, vendor, Verdict::warn,
                   "results include the hypervisor's scheduling noise; pin vCPUs to host cores and compare "
                   "ratios, not absolute times");
}

Fact hypervisor_fact(const std::string& root, const FileRead& cpuinfo) {
  const FileRead sys_type = read_first_line(root + "/sys/hypervisor/type");
  if (sys_type.ok() && !sys_type.text.empty()) return virtualized_fact(sys_type.text);
  if (!cpuinfo.ok()) return unreadable_fact(kHypervisor, cpuinfo);
  const std::string flags = field_value(cpuinfo.text, "flags");
  // Only x86 exposes the "hypervisor" flag; elsewhere its absence proves nothing.
  if (flags.empty()) return make_fact(kHypervisor, "unknown (no x86 flags in /proc/cpuinfo)", Verdict::info);
  if (!has_word(flags, "hypervisor")) return make_fact(kHypervisor, "none", Verdict::ok);
  return virtualized_fact(root.empty() ? cpuid_hypervisor_vendor() : "present (vendor unknown)");
}

Fact ptrace_scope_fact(const std::string& root) {
  const FileRead file = read_first_line(root + "/proc/sys/kernel/yama/ptrace_scope");
  if (file.missing()) return make_fact(kPtraceScope, "not loaded (no Yama)", Verdict::ok);
  if (!file.ok()) return unreadable_fact(kPtraceScope, file);
  if (file.text == "0") return make_fact(kPtraceScope, "0 (classic ptrace permissions)", Verdict::ok);
  if (file.text == "1")
    return make_fact(kPtraceScope, "1 (restricted: only a parent or a PR_SET_PTRACER-declared tracer)", Verdict::info,
                     "ipcatlas declares each peer with prctl(PR_SET_PTRACER); CMA, /proc/PID/mem and ptrace "
                     "still work");
  if (file.text == "2")
    return make_fact(kPtraceScope, "2 (admin-only: needs CAP_SYS_PTRACE)", Verdict::warn,
                     "cma-*, procmem-* and ptrace need CAP_SYS_PTRACE: run as root, or lower the scope with "
                     "sysctl kernel.yama.ptrace_scope=1");
  if (file.text == "3")
    return make_fact(kPtraceScope, "3 (no attach)", Verdict::warn,
                     "cma-*, procmem-* and ptrace cannot run until reboot (scope 3 cannot be lowered)");
  return make_fact(kPtraceScope, file.text + " (unknown Yama mode)", Verdict::info);
}

std::string seccomp_filter_count(const std::string& status) {
  const std::string filters = field_value(status, "Seccomp_filters");
  if (filters.empty()) return "";
  return filters == "1" ? ", 1 filter" : ", " + filters + " filters";
}

Fact seccomp_fact(const std::string& root) {
  const FileRead status = read_file(root + "/proc/self/status");
  if (!status.ok()) return unreadable_fact(kSeccomp, status);
  const std::string mode = field_value(status.text, "Seccomp");
  const std::string filters = seccomp_filter_count(status.text);
  if (mode.empty()) return make_fact(kSeccomp, "not supported by this kernel", Verdict::ok);
  if (mode == "0") return make_fact(kSeccomp, "0 (disabled" + filters + ")", Verdict::ok);
  if (mode == "1")
    return make_fact(kSeccomp, "1 (strict" + filters + ")", Verdict::warn,
                     "strict seccomp allows only read, write, _exit and sigreturn: almost no mechanism can run");
  if (mode == "2")
    return make_fact(kSeccomp, "2 (filter" + filters + ")", Verdict::warn,
                     "a seccomp filter is active (container?): some syscalls (process_vm_readv, ptrace, vmsplice) "
                     "may be refused; ipcatlas list says which");
  return make_fact(kSeccomp, mode + " (unknown mode" + filters + ")", Verdict::info);
}

Fact thp_fact(const std::string& root) {
  const FileRead file = read_first_line(root + "/sys/kernel/mm/transparent_hugepage/enabled");
  if (file.missing()) return make_fact(kThp, "not available", Verdict::ok);
  if (!file.ok()) return unreadable_fact(kThp, file);
  // The active choice is bracketed: "always [madvise] never".
  const auto open = file.text.find('['), close = file.text.find(']');
  const std::string choice =
      open != std::string::npos && close > open ? file.text.substr(open + 1, close - open - 1) : file.text;
  if (choice == "always")
    return make_fact(kThp, choice, Verdict::info,
                     "large buffers may be backed by huge pages: fewer TLB misses, page-fault cost moves to first "
                     "touch");
  return make_fact(kThp, choice, Verdict::ok);
}

Fact governor_fact(const std::string& root) {
  const FileRead file = read_first_line(root + "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  if (file.missing())
    return make_fact(kGovernor, "no cpufreq driver", Verdict::info, "common in VMs: frequency is set by the host");
  if (!file.ok()) return unreadable_fact(kGovernor, file);
  if (file.text == "performance") return make_fact(kGovernor, file.text, Verdict::ok);
  return make_fact(kGovernor, file.text, Verdict::warn,
                   "set the performance governor (cpupower frequency-set -g performance) or results vary with load");
}

// The knobs that can switch turbo off, by driver; `on_value` is what the file holds while turbo is on.
struct TurboControl {
  const char* path;
  const char* on_value;
  const char* off_command;
};

constexpr TurboControl kTurboControls[] = {
    {"/sys/devices/system/cpu/intel_pstate/no_turbo", "0", "echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo"},
    {"/sys/devices/system/cpu/cpufreq/boost", "1", "echo 0 > /sys/devices/system/cpu/cpufreq/boost"},
};

Fact turbo_fact(const std::string& root) {
  for (const TurboControl& control : kTurboControls) {
    const FileRead file = read_first_line(root + control.path);
    if (file.missing()) continue;
    if (!file.ok()) return unreadable_fact(kTurbo, file);
    if (file.text != control.on_value) return make_fact(kTurbo, "off", Verdict::ok);
    return make_fact(
        kTurbo, "on", Verdict::info,
        fmt::format("turbo changes frequency with load and temperature; disable it for stable numbers ({})",
                    control.off_command));
  }
  return make_fact(kTurbo, "unknown (no intel_pstate or cpufreq boost control)", Verdict::info);
}

Fact smt_fact(const std::string& root) {
  const FileRead active = read_first_line(root + "/sys/devices/system/cpu/smt/active");
  if (active.missing()) return make_fact(kSmt, "unknown", Verdict::info);
  if (!active.ok()) return unreadable_fact(kSmt, active);
  const FileRead control = read_first_line(root + "/sys/devices/system/cpu/smt/control");
  const std::string suffix = control.ok() ? " (control: " + control.text + ")" : "";
  if (active.text == "1")
    return make_fact(kSmt, "on" + suffix, Verdict::info,
                     "sibling hyperthreads share a core: use different cores unless measuring the smt placement");
  return make_fact(kSmt, (active.text == "0" ? "off" : active.text) + suffix, Verdict::ok);
}

// Tallies of /sys/devices/system/cpu/vulnerabilities/*, by how each entry starts.
struct MitigationTally {
  int total = 0, mitigated = 0, not_affected = 0, other = 0;
  std::vector<std::string> vulnerable;

  void add(const std::string& name, const std::string& status) {
    ++total;
    if (status.rfind("Not affected", 0) == 0) ++not_affected;
    else if (status.rfind("Vulnerable", 0) == 0) vulnerable.push_back(name);
    // "KVM: Mitigation: VMX disabled" also counts: the kernel mitigates it.
    else if (status.find("Mitigation") != std::string::npos) ++mitigated;
    else ++other;
  }

  std::string summary() const {
    std::vector<std::string> parts;
    if (mitigated > 0) parts.push_back(fmt::format("{} mitigated", mitigated));
    if (not_affected > 0) parts.push_back(fmt::format("{} not affected", not_affected));
    if (!vulnerable.empty()) parts.push_back(fmt::format("{} vulnerable ({})", vulnerable.size(), join(vulnerable)));
    if (other > 0) parts.push_back(fmt::format("{} other", other));
    return fmt::format("{} {}: {}", total, total == 1 ? "item" : "items", join(parts));
  }
};

bool mitigations_off_on_cmdline(const std::string& root) {
  return has_word(read_first_line(root + "/proc/cmdline").text, "mitigations=off");
}

Fact mitigations_fact(const std::string& root) {
  const std::string dir = root + "/sys/devices/system/cpu/vulnerabilities";
  int err = 0;
  const std::vector<std::string> names = list_dir(dir, err);
  const std::string cmdline_note =
      mitigations_off_on_cmdline(root) ? "; mitigations=off on the kernel command line" : "";
  if (err == ENOENT) return make_fact(kMitigations, "unknown" + cmdline_note, Verdict::info);
  if (err != 0) return unreadable_fact(kMitigations, FileRead{dir, "", err});
  MitigationTally tally;
  for (const std::string& name : names) tally.add(name, read_first_line(dir + "/" + name).text);
  const std::string hint = tally.mitigated == 0
                               ? ""
                               : "syscall-heavy mechanisms (pipe, sockets, CMA) pay for mitigations on every kernel "
                                 "entry; compare kernels with the same mitigations= boot option";
  return make_fact(kMitigations, tally.summary() + cmdline_note, Verdict::info, hint);
}

Fact clocksource_fact(const std::string& root) {
  const FileRead file = read_first_line(root + "/sys/devices/system/clocksource/clocksource0/current_clocksource");
  if (!file.ok()) return unreadable_fact(kClocksource, file);
  // These are read in user space through the vDSO: no system call per timestamp.
  for (const char* fast : {"tsc", "kvm-clock", "hyperv_clocksource_tsc_page", "arch_sys_counter"})
    if (file.text == fast) return make_fact(kClocksource, file.text, Verdict::ok);
  if (file.text == "hpet" || file.text == "acpi_pm")
    return make_fact(kClocksource, file.text, Verdict::warn,
                     "reading the clock costs a system call (~1 us): per-message timestamps are slow; fix the TSC "
                     "(check dmesg for 'tsc unstable')");
  return make_fact(kClocksource, file.text, Verdict::info);
}

Fact numa_balancing_fact(const std::string& root) {
  const FileRead file = read_first_line(root + "/proc/sys/kernel/numa_balancing");
  if (file.missing()) return make_fact(kNumaBalancing, "not available", Verdict::ok);
  if (!file.ok()) return unreadable_fact(kNumaBalancing, file);
  if (file.text == "0") return make_fact(kNumaBalancing, "off", Verdict::ok);
  return make_fact(kNumaBalancing, "on", Verdict::info,
                   "the kernel may migrate pages between NUMA nodes during a run; disable it "
                   "(sysctl kernel.numa_balancing=0) for memory-binding experiments");
}

}  // namespace

std::string to_string(Fact::Verdict verdict) {
  switch (verdict) {
    case Verdict::ok: return "ok";
    case Verdict::info: return "info";
    case Verdict::warn: return "warn";
  }
  return "info";
}

std::vector<Fact> machine_facts(const std::string& root) {
  const FileRead cpuinfo = read_file(root + "/proc/cpuinfo");
  return {kernel_fact(root),       cpu_model_fact(cpuinfo), hypervisor_fact(root, cpuinfo),
          ptrace_scope_fact(root), seccomp_fact(root),      thp_fact(root),
          governor_fact(root),     turbo_fact(root),        smt_fact(root),
          mitigations_fact(root),  clocksource_fact(root),  numa_balancing_fact(root)};
}

}  // namespace ipcatlas
