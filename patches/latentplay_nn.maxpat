{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 6,
			"revision": 0,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			80.0,
			80.0,
			940.0,
			520.0
		],
		"bglocked": 0,
		"openinpresentation": 0,
		"default_fontsize": 12.0,
		"default_fontface": 0,
		"default_fontname": "Arial",
		"gridonopen": 1,
		"gridsize": [
			15.0,
			15.0
		],
		"gridsnaponopen": 1,
		"objectsnaponopen": 1,
		"statusbarvisible": 2,
		"toolbarvisible": 1,
		"boxanimatetime": 200,
		"enablehscroll": 1,
		"enablevscroll": 1,
		"devicewidth": 0.0,
		"description": "latentplay: the gm-drums model through nn~",
		"digest": "",
		"tags": "latentplay nn~",
		"style": "",
		"subpatcher_template": "",
		"assistshowspatchername": 0,
		"boxes": [
			{
				"box": {
					"id": "obj-1",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						10.0,
						820.0,
						20.0
					],
					"text": "latentplay in Max: the shipped drum model through nn~ (export it first: latentplay export pretrained:gm-drums --nn-tilde gm-drums.ts --sr 44100)"
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						32.0,
						820.0,
						20.0
					],
					"text": "Put gm-drums.ts beside this patch (or in nn~'s models folder), set the audio to the rate it was exported for, turn the speaker on."
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						80.0,
						50.0,
						22.0
					],
					"outlettype": [
						"signal"
					],
					"text": "adc~ 1"
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						100.0,
						80.0,
						50.0,
						22.0
					],
					"outlettype": [
						"signal"
					],
					"text": "noise~"
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						100.0,
						110.0,
						60.0,
						22.0
					],
					"outlettype": [
						"signal"
					],
					"text": "*~ 0.1"
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						110.0,
						30.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "1"
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						55.0,
						110.0,
						30.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "2"
				}
			},
			{
				"box": {
					"id": "obj-8",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						175.0,
						110.0,
						200.0,
						20.0
					],
					"text": "<- 1: microphone, 2: noise"
				}
			},
			{
				"box": {
					"id": "obj-9",
					"maxclass": "newobj",
					"numinlets": 3,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						145.0,
						100.0,
						22.0
					],
					"outlettype": [
						"signal"
					],
					"text": "selector~ 2 1"
				}
			},
			{
				"box": {
					"id": "obj-10",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 64,
					"patching_rect": [
						20.0,
						200.0,
						700.0,
						22.0
					],
					"outlettype": [
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal",
						"signal"
					],
					"text": "nn~ gm-drums encode"
				}
			},
			{
				"box": {
					"id": "obj-11",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						225.0,
						700.0,
						20.0
					],
					"text": "64 latent signals: coordinates along the model's principal axes, in units of their spread (signal 1 matters most)"
				}
			},
			{
				"box": {
					"id": "obj-12",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						260.0,
						50.0,
						22.0
					],
					"outlettype": [
						"signal"
					],
					"text": "+~ 0."
				}
			},
			{
				"box": {
					"id": "obj-13",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [
						80.0,
						245.0,
						50.0,
						22.0
					],
					"outlettype": [
						"",
						"bang"
					],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-14",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						135.0,
						245.0,
						250.0,
						20.0
					],
					"text": "<- move along axis 1 (try -2 .. 2)"
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "newobj",
					"numinlets": 64,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						320.0,
						700.0,
						22.0
					],
					"outlettype": [
						"signal"
					],
					"text": "nn~ gm-drums decode"
				}
			},
			{
				"box": {
					"id": "obj-16",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						740.0,
						290.0,
						80.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "set seed 3"
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						740.0,
						265.0,
						200.0,
						20.0
					],
					"text": "other noise, same sound"
				}
			},
			{
				"box": {
					"id": "obj-18",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						20.0,
						360.0,
						60.0,
						22.0
					],
					"outlettype": [
						"signal"
					],
					"text": "*~ 0.5"
				}
			},
			{
				"box": {
					"id": "obj-19",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [
						420.0,
						145.0,
						160.0,
						22.0
					],
					"outlettype": [
						"signal"
					],
					"text": "nn~ gm-drums forward"
				}
			},
			{
				"box": {
					"id": "obj-20",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						590.0,
						145.0,
						300.0,
						34.0
					],
					"text": "<- forward: the input rebuilt from the grain space (encode + decode in one object)"
				}
			},
			{
				"box": {
					"id": "obj-21",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						590.0,
						110.0,
						70.0,
						22.0
					],
					"outlettype": [
						""
					],
					"text": "set gate 0"
				}
			},
			{
				"box": {
					"id": "obj-22",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						665.0,
						110.0,
						260.0,
						20.0
					],
					"text": "gate 1 (default): digital silence stays silent"
				}
			},
			{
				"box": {
					"id": "obj-23",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [
						420.0,
						360.0,
						60.0,
						22.0
					],
					"outlettype": [
						"signal"
					],
					"text": "*~ 0.5"
				}
			},
			{
				"box": {
					"id": "obj-24",
					"maxclass": "ezdac~",
					"numinlets": 2,
					"numoutlets": 0,
					"patching_rect": [
						20.0,
						410.0,
						45.0,
						45.0
					]
				}
			},
			{
				"box": {
					"id": "obj-25",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						75.0,
						420.0,
						700.0,
						34.0
					],
					"text": "Latency: about 95 ms at 44.1 or 48 kHz (70 ms at the model's 22050 Hz): a grain is heard once it has all arrived. nn~'s buffer adds its own."
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"source": [
						"obj-4",
						0
					],
					"destination": [
						"obj-5",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-6",
						0
					],
					"destination": [
						"obj-9",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-7",
						0
					],
					"destination": [
						"obj-9",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-3",
						0
					],
					"destination": [
						"obj-9",
						1
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-5",
						0
					],
					"destination": [
						"obj-9",
						2
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-13",
						0
					],
					"destination": [
						"obj-12",
						1
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						0
					],
					"destination": [
						"obj-12",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-12",
						0
					],
					"destination": [
						"obj-15",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						1
					],
					"destination": [
						"obj-15",
						1
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						2
					],
					"destination": [
						"obj-15",
						2
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						3
					],
					"destination": [
						"obj-15",
						3
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						4
					],
					"destination": [
						"obj-15",
						4
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						5
					],
					"destination": [
						"obj-15",
						5
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						6
					],
					"destination": [
						"obj-15",
						6
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						7
					],
					"destination": [
						"obj-15",
						7
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						8
					],
					"destination": [
						"obj-15",
						8
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						9
					],
					"destination": [
						"obj-15",
						9
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						10
					],
					"destination": [
						"obj-15",
						10
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						11
					],
					"destination": [
						"obj-15",
						11
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						12
					],
					"destination": [
						"obj-15",
						12
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						13
					],
					"destination": [
						"obj-15",
						13
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						14
					],
					"destination": [
						"obj-15",
						14
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						15
					],
					"destination": [
						"obj-15",
						15
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						16
					],
					"destination": [
						"obj-15",
						16
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						17
					],
					"destination": [
						"obj-15",
						17
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						18
					],
					"destination": [
						"obj-15",
						18
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						19
					],
					"destination": [
						"obj-15",
						19
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						20
					],
					"destination": [
						"obj-15",
						20
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						21
					],
					"destination": [
						"obj-15",
						21
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						22
					],
					"destination": [
						"obj-15",
						22
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						23
					],
					"destination": [
						"obj-15",
						23
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						24
					],
					"destination": [
						"obj-15",
						24
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						25
					],
					"destination": [
						"obj-15",
						25
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						26
					],
					"destination": [
						"obj-15",
						26
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						27
					],
					"destination": [
						"obj-15",
						27
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						28
					],
					"destination": [
						"obj-15",
						28
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						29
					],
					"destination": [
						"obj-15",
						29
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						30
					],
					"destination": [
						"obj-15",
						30
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						31
					],
					"destination": [
						"obj-15",
						31
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						32
					],
					"destination": [
						"obj-15",
						32
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						33
					],
					"destination": [
						"obj-15",
						33
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						34
					],
					"destination": [
						"obj-15",
						34
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						35
					],
					"destination": [
						"obj-15",
						35
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						36
					],
					"destination": [
						"obj-15",
						36
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						37
					],
					"destination": [
						"obj-15",
						37
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						38
					],
					"destination": [
						"obj-15",
						38
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						39
					],
					"destination": [
						"obj-15",
						39
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						40
					],
					"destination": [
						"obj-15",
						40
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						41
					],
					"destination": [
						"obj-15",
						41
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						42
					],
					"destination": [
						"obj-15",
						42
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						43
					],
					"destination": [
						"obj-15",
						43
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						44
					],
					"destination": [
						"obj-15",
						44
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						45
					],
					"destination": [
						"obj-15",
						45
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						46
					],
					"destination": [
						"obj-15",
						46
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						47
					],
					"destination": [
						"obj-15",
						47
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						48
					],
					"destination": [
						"obj-15",
						48
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						49
					],
					"destination": [
						"obj-15",
						49
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						50
					],
					"destination": [
						"obj-15",
						50
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						51
					],
					"destination": [
						"obj-15",
						51
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						52
					],
					"destination": [
						"obj-15",
						52
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						53
					],
					"destination": [
						"obj-15",
						53
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						54
					],
					"destination": [
						"obj-15",
						54
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						55
					],
					"destination": [
						"obj-15",
						55
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						56
					],
					"destination": [
						"obj-15",
						56
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						57
					],
					"destination": [
						"obj-15",
						57
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						58
					],
					"destination": [
						"obj-15",
						58
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						59
					],
					"destination": [
						"obj-15",
						59
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						60
					],
					"destination": [
						"obj-15",
						60
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						61
					],
					"destination": [
						"obj-15",
						61
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						62
					],
					"destination": [
						"obj-15",
						62
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						63
					],
					"destination": [
						"obj-15",
						63
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-9",
						0
					],
					"destination": [
						"obj-10",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-16",
						0
					],
					"destination": [
						"obj-15",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-15",
						0
					],
					"destination": [
						"obj-18",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-9",
						0
					],
					"destination": [
						"obj-19",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-21",
						0
					],
					"destination": [
						"obj-19",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-19",
						0
					],
					"destination": [
						"obj-23",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-18",
						0
					],
					"destination": [
						"obj-24",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-18",
						0
					],
					"destination": [
						"obj-24",
						1
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-23",
						0
					],
					"destination": [
						"obj-24",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-23",
						0
					],
					"destination": [
						"obj-24",
						1
					]
				}
			}
		],
		"dependency_cache": [],
		"autosave": 0
	}
}
