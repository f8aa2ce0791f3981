#include "mechanisms/registry.hpp"

#include <string>
#include <vector>

#include "harness/base/text.hpp"

namespace ipcatlas {

extern const Mechanism kShmMechanism;
extern const Mechanism kZerocopyMechanism;
extern const Mechanism kMemfdMapMechanism;
extern const Mechanism kMemfdMapHugeMechanism;
extern const Mechanism kPipeMechanism;
extern const Mechanism kUnixStreamMechanism;
extern const Mechanism kUnixSeqpacketMechanism;
extern const Mechanism kVmspliceMechanism;
extern const Mechanism kCmaReadMechanism;
extern const Mechanism kCmaWriteMechanism;
extern const Mechanism kProcmemReadMechanism;
extern const Mechanism kProcmemWriteMechanism;
extern const Mechanism kPtraceMechanism;
extern const Mechanism kKnemMechanism;
extern const Mechanism kXpmemMechanism;

std::span<const Mechanism* const> all_mechanisms() {
  static const Mechanism* const kAll[] = {
      &kShmMechanism,     &kZerocopyMechanism,   &kMemfdMapMechanism,      &kMemfdMapHugeMechanism,
      &kPipeMechanism,    &kUnixStreamMechanism, &kUnixSeqpacketMechanism, &kVmspliceMechanism,
      &kCmaReadMechanism, &kCmaWriteMechanism,   &kProcmemReadMechanism,   &kProcmemWriteMechanism,
      &kPtraceMechanism,  &kKnemMechanism,       &kXpmemMechanism,
  };
  return kAll;
}

const Mechanism* find_mechanism(std::string_view id) {
  for (const Mechanism* m : all_mechanisms())
    if (m->id == id) return m;
  return nullptr;
}

std::string mechanism_ids() {
  std::vector<std::string> ids;
  for (const Mechanism* m : all_mechanisms()) ids.emplace_back(m->id);
  return join(ids);
}

std::string wait_policy_cannot_serve(const Mechanism& mechanism, WaitPolicy policy) {
  if (policy != WaitPolicy::eventfd || mechanism.wait_policies.honours(policy)) return "";
  std::vector<std::string> own, served;
  for (WaitPolicy p : kAllWaitPolicies)
    if (mechanism.wait_policies.honours(p)) own.emplace_back(to_string(p));
  for (const Mechanism* m : all_mechanisms())
    if (m->make_link && m->wait_policies.honours(policy)) served.emplace_back(m->id);
  return std::string(mechanism.id) + " does not honour --wait " + std::string(to_string(policy)) +
         ": its ranks wait in the kernel, not on a shared mailbox an eventfd can wake (its waits: " + join(own) +
         "; eventfd serves " + join(served) + ")";
}

}  // namespace ipcatlas
