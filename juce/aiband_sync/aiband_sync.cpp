/*  The module's single translation unit (JUCE's convention: the build compiles this file only). */

#ifdef AIBAND_SYNC_H_INCLUDED
 /* When you add this cpp file to your project, you mustn't include it in a file where you've
    already included any other headers - just put it inside a file on its own, possibly with your config
    flags preceding it, but don't include anything else. That also includes avoiding any automatic prefix
    header files that the compiler may be using. */
 #error "Incorrect use of JUCE cpp file"
#endif

#include "aiband_sync.h"

#include "sync/aiband_WebSocket.cpp"
#include "sync/aiband_Generation.cpp"
#include "sync/aiband_GenerationPlayer.cpp"
#include "sync/aiband_SyncClient.cpp"
