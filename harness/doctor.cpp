#include "harness/doctor.hpp"
#include <ostream>
namespace ipcatlas {
int print_doctor_report(std::ostream&, const std::vector<Fact>&, bool) { return 0; }
}
