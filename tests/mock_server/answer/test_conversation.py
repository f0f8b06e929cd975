"""Multi-turn editing with thought signatures: SDK chats over loopback, and the 400s Google answers."""

from __future__ import annotations

import base64
import copy
import io
from typing import Any

import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from mock_server.answer.signatures import BYPASS_VALUES
from mock_server.settings import Settings
from mock_server.testing import RunningServer
from schemas import error_catalogue, validator
from tests.support.fake import API_KEY, InProcess, error_of, images_in, text_request

PRO = "gemini-3-pro-image-preview"
FLASH = "gemini-3.1-flash-image-preview"
MISSING = error_catalogue()["errors"]["missing_thought_signature"]["message"]


def split_png(width: int = 96, height: int = 64) -> bytes:
    """Left half red, right half blue: the fake's edits mirror their source, so sides tell lineage."""
    image = Image.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (width // 2, 0, width, height))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def left_side(image: Image.Image) -> str:
    """'red' or 'blue': the colour at the upper left quarter (clear of the caption band)."""
    r, _g, b = image.convert("RGB").getpixel((image.width // 4, image.height // 4))[:3]
    return "red" if r > b else "blue"


def client_for(server: RunningServer) -> genai.Client:
    return genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.base_url,
                                                                        api_version="v1beta"))


def sdk_image(response: types.GenerateContentResponse) -> Image.Image:
    parts = response.candidates[0].content.parts  # type: ignore[index,union-attr]
    data = [p.inline_data.data for p in parts if p.inline_data and not p.thought]  # type: ignore[union-attr]
    return Image.open(io.BytesIO(data[-1]))  # type: ignore[arg-type]


def test_sdk_chat_edits_the_last_image_over_three_turns(live_server: RunningServer) -> None:
    client = client_for(live_server)
    config = types.GenerateContentConfig(image_config=types.ImageConfig(aspect_ratio="1:1", image_size="512"))
    chat = client.chats.create(model=FLASH, config=config)
    first = chat.send_message([types.Part.from_bytes(data=split_png(), mime_type="image/png"), "a poster of this"])
    second = chat.send_message("make it night")  # text only: edits the model's last image
    third = chat.send_message("add a moon")
    # Each edit mirrors its source: the sides alternate only if every turn edits the previous answer.
    assert [left_side(sdk_image(r)) for r in (first, second, third)] == ["blue", "red", "blue"]
    history = chat.get_history()
    assert [content.role for content in history] == ["user", "model"] * 3
    for model_turn in history[1::2]:  # the SDK kept (and round-tripped) every image's signature
        images = [p for p in model_turn.parts or [] if p.inline_data is not None]
        assert images and all(p.thought_signature for p in images)


def test_sdk_history_without_a_signature_is_rejected(live_server: RunningServer) -> None:
    client = client_for(live_server)
    chat = client.chats.create(model=PRO, config=types.GenerateContentConfig(
        image_config=types.ImageConfig(aspect_ratio="1:1")))
    chat.send_message("a lighthouse at dawn")
    history = [copy.deepcopy(content) for content in chat.get_history()]
    model_parts = history[1].parts or []
    index = next(i for i, p in enumerate(model_parts) if p.inline_data is not None)
    model_parts[index].thought_signature = None
    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model=PRO, contents=[*history, types.Content(
            role="user", parts=[types.Part(text="make it stormy")])])
    assert raised.value.code == 400
    assert raised.value.status == "INVALID_ARGUMENT"
    assert raised.value.message == MISSING.format(content=2, part=index + 1)


def _turns(model_parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": "a fox"}]},
                         {"role": "model", "parts": model_parts},
                         {"role": "user", "parts": [{"text": "now in snow"}]}]}


def _answer_parts(fake: InProcess, model: str = PRO) -> list[dict[str, Any]]:
    response = fake.generate(model, text_request("a fox", aspectRatio="1:1"))
    assert response.status_code == 200
    parts: list[dict[str, Any]] = response.json()["candidates"][0]["content"]["parts"]
    return parts


def test_the_real_example_positions_are_one_based(fake: InProcess) -> None:
    image = next(p for p in _answer_parts(fake) if "inlineData" in p)
    unsigned = {"inlineData": image["inlineData"]}
    status = error_of(fake.generate(PRO, _turns([unsigned])))
    assert status["message"] == ("Image part is missing a thought_signature in content position 2, part position 1. "
                                 "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures"
                                 "#model-behavior for more details.")
    assert status["status"] == "INVALID_ARGUMENT"


def test_a_correct_history_edits_and_validates(fake: InProcess) -> None:
    parts = _answer_parts(fake)
    response = fake.generate(PRO, _turns(parts))
    assert response.status_code == 200, response.text
    assert not list(validator("generate_content_response").iter_errors(response.json()))
    assert "edited" in response.json()["candidates"][0]["content"]["parts"][0]["text"]


@pytest.mark.parametrize("bypass", sorted(BYPASS_VALUES))
@pytest.mark.parametrize("encoded", [False, True])
def test_documented_bypass_values_are_accepted(fake: InProcess, bypass: str, encoded: bool) -> None:
    image = next(p for p in _answer_parts(fake) if "inlineData" in p)
    value = base64.urlsafe_b64encode(bypass.encode()).decode() if encoded else bypass  # SDK bytes vs raw JSON
    response = fake.generate(PRO, _turns([{"inlineData": image["inlineData"], "thoughtSignature": value}]))
    assert response.status_code == 200, response.text


def test_forged_and_foreign_signatures_are_corrupted(fake: InProcess) -> None:
    parts = _answer_parts(fake)
    forged = [dict(p, thoughtSignature=base64.b64encode(b"not ours").decode()) if "inlineData" in p else p
              for p in parts]
    status = error_of(fake.generate(PRO, _turns(forged)))
    assert (status["code"], status["message"]) == (400, "Corrupted thought signature.")
    foreign = InProcess(Settings(signing_secret="another deployment"))
    assert error_of(foreign.generate(PRO, _turns(parts)))["message"] == "Corrupted thought signature."


def test_replicas_sharing_the_secret_accept_each_others_signatures(fake: InProcess) -> None:
    parts = _answer_parts(fake)
    replica = InProcess(Settings(seed=7))  # another process, same (default) secret, no shared state
    assert replica.generate(PRO, _turns(parts)).status_code == 200


def test_signatures_survive_url_safe_reencoding(fake: InProcess) -> None:
    parts = _answer_parts(fake)
    resent = [dict(p, thoughtSignature=base64.urlsafe_b64encode(base64.b64decode(p["thoughtSignature"]))
                   .decode().rstrip("=")) if "thoughtSignature" in p else p for p in parts]
    assert fake.generate(PRO, _turns(resent)).status_code == 200


def test_an_edited_image_no_longer_matches_its_signature(fake: InProcess) -> None:
    parts = _answer_parts(fake)
    image = next(p for p in parts if "inlineData" in p)
    other = next(p for p in _answer_parts(InProcess(Settings(seed=99))) if "inlineData" in p)
    swapped = [dict(p, inlineData=other["inlineData"]) if p is image else p for p in parts]
    assert error_of(fake.generate(PRO, _turns(swapped)))["message"] == "Corrupted thought signature."


@pytest.mark.parametrize(("check", "forged_status", "missing_status"),
                         [("presence", 200, 400), ("off", 200, 200)])
def test_signature_check_setting(check: str, forged_status: int, missing_status: int) -> None:
    fake = InProcess(Settings(signature_check=check))  # type: ignore[arg-type]
    image = next(p for p in _answer_parts(fake) if "inlineData" in p)
    forged = {"inlineData": image["inlineData"], "thoughtSignature": "Zm9yZ2Vk"}
    assert fake.generate(PRO, _turns([forged])).status_code == forged_status
    assert fake.generate(PRO, _turns([{"inlineData": image["inlineData"]}])).status_code == missing_status


def test_thought_parts_in_the_history_need_no_signature(fake: InProcess) -> None:
    body = text_request("a fox", aspectRatio="1:1")
    body["generationConfig"]["thinkingConfig"] = {"includeThoughts": True}
    parts = fake.generate(PRO, body).json()["candidates"][0]["content"]["parts"]
    assert any(p.get("thought") and "inlineData" in p for p in parts)
    response = fake.generate(PRO, _turns(parts))
    assert response.status_code == 200, response.text
    # ... and the edit starts from the final image, not from a thought image.
    assert len(images_in(response.json())) == 1


def test_non_thinking_model_needs_no_signatures(fake: InProcess) -> None:
    model = "gemini-2.5-flash-image"
    image = next(p for p in _answer_parts(fake, model) if "inlineData" in p)
    assert "thoughtSignature" not in image
    assert fake.generate(model, _turns([image])).status_code == 200
