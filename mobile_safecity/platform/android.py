"""Android versions through pyjnius and plyer, imported only when called on a phone.

Not run by the tests (there is no Android here); kept small and close to the documented platform APIs:
LocationManager via plyer.gps, the system photo picker (ACTION_PICK_IMAGES, Android 13+) or
ACTION_GET_CONTENT before it, the camera via MediaStore.ACTION_IMAGE_CAPTURE, calls with ACTION_CALL
(falling back to ACTION_DIAL without the CALL_PHONE permission), and the FCM token from
FirebaseMessaging (needs google-services.json in the build, see docs/safecity-app/README.md).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from mobile_safecity.platform.base import Location, PhoneCall, PhotoPicker, PlatformServices, PushToken

log = logging.getLogger("mobile_safecity.platform")
PICK_REQUEST, CAMERA_REQUEST = 4101, 4102


def _activity() -> Any:
    from jnius import autoclass  # type: ignore[import-not-found]

    return autoclass("org.kivy.android.PythonActivity").mActivity


def _ask(*permissions: str) -> None:
    from android.permissions import request_permissions  # type: ignore[import-not-found]

    request_permissions(list(permissions))


class AndroidLocation(Location):
    """One GPS fix through plyer (ACCESS_FINE_LOCATION asked first)."""

    def locate(self, on_fix: Callable[[float, float], None], on_error: Callable[[str], None]) -> None:
        """Starts the GPS and stops it after the first fix."""
        from plyer import gps  # type: ignore[import-not-found]

        _ask("android.permission.ACCESS_FINE_LOCATION")

        def location(**kwargs: Any) -> None:
            gps.stop()
            on_fix(float(kwargs["lat"]), float(kwargs["lon"]))

        def status(stype: str, status: str) -> None:
            if stype == "provider-disabled":
                on_error(status)

        try:
            gps.configure(on_location=location, on_status=status)
            gps.start(minTime=1000, minDistance=0)
        except Exception as exc:  # no provider, permission refused
            on_error(str(exc))


class AndroidPhotoPicker(PhotoPicker):
    """The system photo picker and the camera; results copied to the app's cache as files."""

    can_take_photo = True

    def pick(self, on_selected: Callable[[Sequence[str]], None], *, limit: int, language: str) -> None:
        """Opens the photo picker (no storage permission needed on Android 13+)."""
        from android import activity  # type: ignore[import-not-found]
        from jnius import autoclass

        Intent = autoclass("android.content.Intent")
        MediaStore = autoclass("android.provider.MediaStore")
        version = autoclass("android.os.Build$VERSION").SDK_INT
        if version >= 33:
            intent = Intent(MediaStore.ACTION_PICK_IMAGES)
            if limit > 1:
                intent.putExtra(MediaStore.EXTRA_PICK_IMAGES_MAX, limit)
        else:
            _ask("android.permission.READ_EXTERNAL_STORAGE")
            intent = Intent(Intent.ACTION_GET_CONTENT)
            intent.setType("image/*")
            intent.putExtra(Intent.EXTRA_ALLOW_MULTIPLE, limit > 1)

        def result(request: int, code: int, data: Any) -> None:
            if request != PICK_REQUEST:
                return
            activity.unbind(on_activity_result=result)
            uris = []
            if code == -1 and data is not None:
                clip = data.getClipData()
                if clip is not None:
                    uris = [clip.getItemAt(i).getUri() for i in range(min(clip.getItemCount(), limit))]
                elif data.getData() is not None:
                    uris = [data.getData()]
            on_selected([_copy_uri(uri) for uri in uris])

        activity.bind(on_activity_result=result)
        _activity().startActivityForResult(intent, PICK_REQUEST)

    def take_photo(self, on_selected: Callable[[Sequence[str]], None], *, language: str) -> None:
        """Opens the camera app writing to a file of ours (through the FileProvider of the build)."""
        from android import activity  # type: ignore[import-not-found]
        from jnius import autoclass

        _ask("android.permission.CAMERA")
        Intent = autoclass("android.content.Intent")
        MediaStore = autoclass("android.provider.MediaStore")
        File = autoclass("java.io.File")
        FileProvider = autoclass("androidx.core.content.FileProvider")
        context = _activity()
        target = File(context.getCacheDir(), f"photo-{int(time.time() * 1000)}.jpg")
        uri = FileProvider.getUriForFile(context, context.getPackageName() + ".fileprovider", target)
        intent = Intent(MediaStore.ACTION_IMAGE_CAPTURE)
        intent.putExtra(MediaStore.EXTRA_OUTPUT, uri)
        intent.addFlags(Intent.FLAG_GRANT_WRITE_URI_PERMISSION)

        def result(request: int, code: int, data: Any) -> None:
            if request == CAMERA_REQUEST:
                activity.unbind(on_activity_result=result)
                on_selected([target.getAbsolutePath()] if code == -1 else [])

        activity.bind(on_activity_result=result)
        context.startActivityForResult(intent, CAMERA_REQUEST)


def _copy_uri(uri: Any) -> str:
    """Copies a content:// image into the app's cache and returns the file's path."""
    context = _activity()
    stream = context.getContentResolver().openInputStream(uri)
    path = os.path.join(context.getCacheDir().getAbsolutePath(), f"pick-{time.time_ns()}.jpg")
    with open(path, "wb") as out:
        while True:
            byte = stream.read()
            if byte == -1:
                break
            out.write(bytes([byte]))
    stream.close()
    return path


class AndroidPhoneCall(PhoneCall):
    """ACTION_CALL with the CALL_PHONE permission, else the dialler with the number filled in."""

    def call(self, number: str) -> None:
        """Calls the number."""
        from jnius import autoclass

        Intent = autoclass("android.content.Intent")
        Uri = autoclass("android.net.Uri")
        try:
            _ask("android.permission.CALL_PHONE")
            intent = Intent(Intent.ACTION_CALL, Uri.parse(f"tel:{number}"))
            _activity().startActivity(intent)
        except Exception:  # permission refused: the dialler needs none
            _activity().startActivity(Intent(Intent.ACTION_DIAL, Uri.parse(f"tel:{number}")))


class FirebasePushToken(PushToken):
    """The FCM registration token (POST_NOTIFICATIONS asked on Android 13+)."""

    platform = "ANDROID"

    def token(self) -> str | None:
        """Blocks briefly for the token; None when Firebase is not in the build."""
        try:
            from jnius import autoclass

            _ask("android.permission.POST_NOTIFICATIONS")
            messaging = autoclass("com.google.firebase.messaging.FirebaseMessaging").getInstance()
            task = messaging.getToken()
            Tasks = autoclass("com.google.android.gms.tasks.Tasks")
            return str(Tasks.await_(task)) if hasattr(Tasks, "await_") else str(getattr(Tasks, "await")(task))
        except Exception as exc:
            log.warning("no push token: %s", exc)
            return None


def services() -> PlatformServices:
    """The Android features."""
    return PlatformServices(location=AndroidLocation(), photos=AndroidPhotoPicker(), phone=AndroidPhoneCall(),
                            push=FirebasePushToken(), name="android")
