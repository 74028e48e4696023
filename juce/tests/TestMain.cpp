/*  aiband_tests: the module's C++ unit tests (JUCE's UnitTest framework, category "aiband").

    Global operator new is replaced here so that tests can count the allocations a thread makes
    (AllocationCounter): the audio-thread code must make none. Exit code 0 only if all pass. */

#include "TestHelpers.h"

#include <cstdlib>
#include <new>

namespace aiband_test
{
    thread_local bool countingThisThread = false;
    std::atomic<long> allocations { 0 };
}

namespace
{
    void* allocate (std::size_t size)
    {
        if (aiband_test::countingThisThread)
            ++aiband_test::allocations;
        if (void* p = std::malloc (size == 0 ? 1 : size))
            return p;
        throw std::bad_alloc();
    }

    void* allocateAligned (std::size_t size, std::align_val_t align)
    {
        if (aiband_test::countingThisThread)
            ++aiband_test::allocations;
        const auto a = juce::jmax ((std::size_t) align, sizeof (void*));
        void* p = nullptr;
        if (posix_memalign (&p, a, size == 0 ? a : size) != 0)
            throw std::bad_alloc();
        return p;
    }
}

void* operator new (std::size_t size)                                    { return allocate (size); }
void* operator new[] (std::size_t size)                                  { return allocate (size); }
void* operator new (std::size_t size, const std::nothrow_t&) noexcept    { try { return allocate (size); } catch (...) { return nullptr; } }
void* operator new[] (std::size_t size, const std::nothrow_t&) noexcept  { try { return allocate (size); } catch (...) { return nullptr; } }
void* operator new (std::size_t size, std::align_val_t a)                { return allocateAligned (size, a); }
void* operator new[] (std::size_t size, std::align_val_t a)              { return allocateAligned (size, a); }
void operator delete (void* p) noexcept                                  { std::free (p); }
void operator delete[] (void* p) noexcept                                { std::free (p); }
void operator delete (void* p, std::size_t) noexcept                     { std::free (p); }
void operator delete[] (void* p, std::size_t) noexcept                   { std::free (p); }
void operator delete (void* p, std::align_val_t) noexcept                { std::free (p); }
void operator delete[] (void* p, std::align_val_t) noexcept              { std::free (p); }
void operator delete (void* p, std::size_t, std::align_val_t) noexcept   { std::free (p); }
void operator delete[] (void* p, std::size_t, std::align_val_t) noexcept { std::free (p); }

int main (int argc, char* argv[])
{
    juce::UnitTestRunner runner;
    runner.setAssertOnFailure (false);
    if (argc > 1)  // only the groups whose name contains the argument
    {
        juce::Array<juce::UnitTest*> chosen;
        for (auto* t : juce::UnitTest::getAllTests())
            if (t->getCategory() == "aiband" && t->getName().containsIgnoreCase (argv[1]))
                chosen.add (t);
        runner.runTests (chosen);
    }
    else
        runner.runTestsInCategory ("aiband");

    int failures = 0, passes = 0;
    for (int i = 0; i < runner.getNumResults(); ++i)
    {
        failures += runner.getResult (i)->failures;
        passes += runner.getResult (i)->passes;
    }
    std::cout << "aiband_tests: " << passes << " checks passed, " << failures << " failed in "
              << runner.getNumResults() << " groups\n";
    return failures == 0 && runner.getNumResults() > 0 ? 0 : 1;
}
