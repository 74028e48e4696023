/*
  ==============================================================================

   AI Band Workbench: the DAW side of the workbench's sync service.

   A plugin adds this module and gets:
     aiband::SyncClient        (background thread) connects to the service's WebSocket,
                               downloads each generation's MIDI files, parses them and hands
                               them to the audio thread; sends the host's transport back.
     aiband::GenerationPlayer  (audio thread) plays the current generation into processBlock's
                               MidiBuffer in sync with the host's play head, switching to a new
                               generation at the next bar line, without hanging notes.
     aiband::WebSocket         a small RFC 6455 client over juce::StreamingSocket.

   See README.md ("The JUCE module") and docs/protocol.md of the workbench.

  ==============================================================================

 BEGIN_JUCE_MODULE_DECLARATION

  ID:                 aiband_sync
  vendor:             aiband
  version:            0.1.0
  name:               AI Band Workbench sync client and generation player
  description:        Receives the bands a notebook generates over the workbench's WebSocket service and plays them in time with the DAW transport.
  website:            https://github.com/ai-band-workbench
  license:            ISC
  minimumCppStandard: 17

  dependencies:       juce_core, juce_events, juce_audio_basics

 END_JUCE_MODULE_DECLARATION

  ==============================================================================
*/

#pragma once
#define AIBAND_SYNC_H_INCLUDED

#include <juce_core/juce_core.h>
#include <juce_events/juce_events.h>
#include <juce_audio_basics/juce_audio_basics.h>

#include "sync/aiband_WebSocket.h"
#include "sync/aiband_Generation.h"
#include "sync/aiband_GenerationPlayer.h"
#include "sync/aiband_SyncClient.h"
